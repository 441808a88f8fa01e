// 我的工单: a technician's own work on a phone. Big cards, the deadline ticking, and the two
// buttons they need on site: 开始 and 完成 (挂起 and the rest are in the ticket).

import { api, explain, currentMe } from "./api.js";
import { h, fill, fmtTime, toast, $ } from "./dom.js";
import { KIND, PRIORITY, STATUS, CATEGORY, OPEN_STATUSES, label, flatOf } from "./labels.js";
import { slaCell, startSlaClock } from "./sla.js";

let root = null;
let stopSla = null;
let show = "open";

const enc = encodeURIComponent;

export async function mount(el) {
  root = el;
  fill(
    root,
    h(
      "div",
      { class: "page mine" },
      h("div", { class: "page-head" }, h("h1", {}, "我的工单"), h("span", { class: "muted", id: "mine-count" })),
      h(
        "div",
        { class: "tabs" },
        h("button", { type: "button", class: "tab", testid: "mine-open", dataset: { show: "open" }, onclick: () => switchTo("open") }, "待处理"),
        h("button", { type: "button", class: "tab", testid: "mine-done", dataset: { show: "resolved" }, onclick: () => switchTo("resolved") }, "已完成"),
      ),
      h("div", { class: "cards", id: "mine-cards" }),
    ),
  );
  stopSla = startSlaClock(root);
  await load();
}

export function unmount() {
  if (stopSla) stopSla();
  root = null;
}

export function refresh() {
  load();
}

function switchTo(which) {
  show = which;
  load();
}

async function load() {
  if (!root) return;
  for (const b of root.querySelectorAll(".tab")) b.classList.toggle("active", b.dataset.show === show);
  try {
    // The server lists a technician's own tickets only, whatever is asked.
    const params = { assignee: currentMe().username, sort: "urgency", limit: 100 };
    if (show === "resolved") params.status = "resolved";
    let rows = await api.get("/api/tickets", params);
    if (show === "open") rows = rows.filter((t) => OPEN_STATUSES.includes(t.status));
    if (!root) return;
    $("#mine-count").textContent = `${rows.length} 张`;
    render(rows);
  } catch (err) {
    if (root) fill($("#mine-cards"), h("p", { class: "empty" }, explain(err)));
  }
}

async function move(t, status) {
  try {
    await api.post(`/api/tickets/${enc(t.id)}/status`, { status });
    toast(status === "resolved" ? `${t.id} 已完成，已请业主评价` : `${t.id} 开始处理`);
  } catch (err) {
    toast(explain(err), "error");
  }
  load();
}

function render(rows) {
  if (!rows.length) {
    fill($("#mine-cards"), h("p", { class: "empty big" }, show === "open" ? "手上没有待处理的工单" : "还没有已完成的工单"));
    return;
  }
  fill(
    $("#mine-cards"),
    rows.map((t) => {
      const buttons = [];
      if (["assigned", "reopened"].includes(t.status)) buttons.push(h("button", { type: "button", class: "btn btn-primary btn-big", testid: "ticket-start", onclick: () => move(t, "in_progress") }, "开始"));
      if (t.status === "on_hold") buttons.push(h("button", { type: "button", class: "btn btn-primary btn-big", testid: "ticket-resume", onclick: () => move(t, "in_progress") }, "恢复"));
      if (["assigned", "in_progress"].includes(t.status)) buttons.push(h("button", { type: "button", class: "btn btn-success btn-big", testid: "ticket-finish", onclick: () => move(t, "resolved") }, "完成"));
      return h(
        "article",
        { class: ["card", `prio-${t.priority}`], testid: "ticket-row", dataset: { ticket: t.id } },
        h(
          "a",
          { href: `#/tickets/${enc(t.id)}`, class: "card-link" },
          h("div", { class: "card-top" }, h("strong", {}, t.id), h("span", { class: `prio prio-${t.priority}` }, label(PRIORITY, t.priority)), h("span", { class: `status status-${t.status}` }, STATUS[t.status] || t.status)),
          h("div", { class: "card-where" }, flatOf(t) || "—"),
          h("div", { class: "card-what" }, `${label(KIND, t.kind)} · ${t.category_label || CATEGORY[t.category] || ""}：`, t.description),
          h("div", { class: "card-meta" }, slaCell(t), t.chases ? h("span", { class: "chase" }, `催 ${t.chases}`) : null, h("span", { class: "muted" }, fmtTime(t.created_at))),
        ),
        buttons.length ? h("div", { class: "card-actions" }, buttons) : null,
      );
    }),
  );
}
