// One ticket: what, where, who is accountable, the deadlines, and its whole history (who, when,
// what). The actions shown are the ones the caller's role may take in the ticket's state; the
// server decides again (a refusal is shown as it comes).

import { api, explain, may, currentMe } from "./api.js";
import { h, fill, fmtTime, toast, $ } from "./dom.js";
import { KIND, PRIORITY, STATUS, EVENT, CHANNEL, CATEGORY, TRANSITIONS, WORK_STATUSES, OPEN_STATUSES, OWNER_CHANNELS, label, flatOf, actorName } from "./labels.js";
import { slaCell, startSlaClock } from "./sla.js";
import { staffList, staffPicker } from "./staffpick.js";

let root = null;
let number = null;
let stopSla = null;
let ticket = null;

const enc = encodeURIComponent;

export async function mount(el, arg) {
  root = el;
  number = arg;
  await load();
}

export async function update(arg) {
  number = arg;
  await load();
}

export function unmount() {
  if (stopSla) stopSla();
  root = null;
}

let lastLive = 0;
export function refresh() {
  // Someone else may have moved the ticket; do not wipe what is being typed.
  const typing = root && root.querySelector("[data-testid=comment-text]");
  if (typing && typing.value) return;
  if (Date.now() - lastLive < 2000) return;
  lastLive = Date.now();
  load();
}

async function load() {
  if (!root) return;
  try {
    ticket = await api.get(`/api/tickets/${enc(number)}`);
    if (root) await render();
  } catch (err) {
    if (root) fill(root, h("div", { class: "empty" }, h("h2", {}, `工单 ${number}`), h("p", {}, explain(err)), h("a", { href: backHref() }, "返回")));
  }
}

function backHref() {
  return currentMe() && currentMe().role === "technician" ? "#/mytickets" : "#/tickets";
}

function canWork() {
  const me = currentMe();
  return may("tickets.work") && (me.role !== "technician" || ticket.assignee === me.username);
}

/** Status moves this member may make from here (assignment is its own action). */
function moves() {
  if (!canWork()) return [];
  const next = TRANSITIONS[ticket.status] || [];
  return may("tickets.close") ? next : next.filter((s) => WORK_STATUSES.includes(s));
}

async function act(fn, done) {
  try {
    await fn();
    if (done) toast(done);
  } catch (err) {
    toast(explain(err), "error");
  }
  await load();
}

const setStatus = (status, note = "") => act(() => api.post(`/api/tickets/${enc(number)}/status`, note ? { status, note } : { status }), `已改为「${STATUS[status] || status}」`);

function detailRows() {
  const t = ticket;
  const rows = [
    ["位置", flatOf(t) || "—"],
    ["分类", `${label(KIND, t.kind)} · ${t.category_label || CATEGORY[t.category] || t.category}`],
    ["优先级", h("span", { class: `prio prio-${t.priority}` }, label(PRIORITY, t.priority))],
    ["负责人", t.assignee ? person(t.assignee) : h("span", { class: "muted" }, "未派单")],
    ["时限", slaCell(t)],
    ["响应期限", fmtTime(t.respond_by)],
    ["完成期限", fmtTime(t.resolve_by)],
    ["创建", `${fmtTime(t.created_at)}（${{ assistant: "业主经助手", staff: "员工代建", phone: "电话" }[t.intake] || t.intake || ""}）`],
    ["催单", t.chases ? h("span", { class: "chase" }, `${t.chases} 次`) : "0"],
  ];
  if (t.rating) rows.push(["评价", `${t.rating} 分`]);
  if (t.merged_into) rows.push(["已合并到", h("a", { href: `#/tickets/${enc(t.merged_into)}` }, t.merged_into)]);
  if (t.external_id) rows.push(["物业系统单号", t.external_id]);
  if (t.anonymous) rows.push(["联系人", "匿名投诉"]);
  else if (t.sender && may("conversations") && OWNER_CHANNELS.includes(t.channel)) rows.push(["联系人", h("a", { href: `#/conversations/${enc(t.sender)}` }, `${CHANNEL[t.channel] || t.channel}会话`)]);
  return h("dl", { class: "kv" }, rows.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

/** A colleague by name when the API names them (``names``), else by username. */
function person(username) {
  const names = ticket.names || {};
  if (ticket.assignee === username && ticket.assignee_name) return ticket.assignee_name;
  return names[username] || username;
}

function eventDetail(e) {
  const d = e.data || {};
  const bits = [];
  // Who is accountable by name and login: an estate has more than one 王师傅.
  const full = (u) => (person(u) === u ? u : `${person(u)}（${u}）`);
  if (e.type === "assigned" && d.assignee) bits.push(d.previous ? `${full(d.previous)} → ${full(d.assignee)}` : `负责人：${full(d.assignee)}`);
  if (e.status) bits.push(`→ ${STATUS[e.status] || e.status}`);
  if (e.type === "merged" && (d.into || d.from)) bits.push(d.into ? `并入 ${d.into}` : `合并了 ${d.from}`);
  if (e.type === "rating" && (d.score || d.rating)) bits.push(`${d.score || d.rating} 分`);
  if (e.type === "chase" && d.times) bits.push(`第 ${d.times} 次`);
  if (d.expected_at) bits.push(`预计 ${fmtTime(d.expected_at)} 前到`);
  if (d.resolve_by) bits.push(`完成期限顺延至 ${fmtTime(d.resolve_by)}`);
  return bits.join("，");
}

function timeline() {
  const items = [...(ticket.history || [])];
  return h(
    "ol",
    { class: "timeline", testid: "timeline" },
    items.map((e) =>
      h(
        "li",
        { class: `ev ev-${e.type}`, dataset: { type: e.type } },
        h("div", { class: "ev-head" }, h("strong", {}, EVENT[e.type] || e.type), " ", h("span", { class: "muted" }, eventDetail(e))),
        h("div", { class: "ev-meta muted small" }, actorName(e.actor, ticket.names), " · ", fmtTime(e.at)),
        e.note ? h("div", { class: "ev-note" }, e.note) : null,
      ),
    ),
  );
}

async function actions() {
  const t = ticket;
  const me = currentMe();
  const open = OPEN_STATUSES.includes(t.status);
  const box = [];
  const next = moves();
  // The technician's big buttons: start, finish, hold, resume.
  const quick = [];
  if (next.includes("in_progress") && t.status !== "on_hold") quick.push(h("button", { type: "button", class: "btn btn-primary btn-big", testid: "start", onclick: () => setStatus("in_progress") }, "开始处理"));
  if (next.includes("resolved")) quick.push(h("button", { type: "button", class: "btn btn-success btn-big", testid: "finish", onclick: () => finish() }, "完成"));
  if (next.includes("on_hold")) quick.push(h("button", { type: "button", class: "btn btn-big", testid: "hold", onclick: () => hold() }, "挂起"));
  if (t.status === "on_hold" && next.includes("in_progress")) quick.push(h("button", { type: "button", class: "btn btn-primary btn-big", testid: "resume", onclick: () => setStatus("in_progress") }, "恢复处理"));
  if (quick.length) box.push(h("div", { class: "quick" }, quick));
  if (quick.length) box.push(h("input", { testid: "status-note", class: "wide", maxlength: 500, placeholder: "说明（可选，如：等配件、业主不在家）" }));

  if (may("tickets.assign") && open) {
    const members = await staffList();
    const picker = staffPicker({ testid: "assign-select", members, value: t.assignee || "", placeholder: "负责人用户名" });
    const expected = h("input", { type: "datetime-local", testid: "assign-expected", title: "预计到达（可选，会告知业主）" });
    box.push(
      h(
        "div",
        { class: "action-row" },
        h("label", {}, t.assignee ? "改派" : "派单"),
        picker,
        expected,
        h(
          "button",
          {
            type: "button",
            class: "btn btn-primary",
            testid: "assign-submit",
            onclick: () => {
              const who = picker.value.trim();
              if (!who) return toast("请选择负责人", "error");
              const body = { assignee: who };
              if (expected.value) body.expected_at = new Date(expected.value).toISOString();
              act(() => api.post(`/api/tickets/${enc(number)}/assign`, body), `已派给 ${who}`);
            },
          },
          t.assignee ? "改派" : "派单",
        ),
      ),
    );
  }
  if (next.length) {
    const sel = h("select", { testid: "status-select" }, next.map((s) => h("option", { value: s }, STATUS[s] || s)));
    box.push(
      h(
        "div",
        { class: "action-row" },
        h("label", {}, "状态"),
        sel,
        h("button", { type: "button", class: "btn", testid: "status-submit", onclick: () => setStatus(sel.value, noteText()) }, "更改状态"),
      ),
    );
  }
  if (may("tickets.merge") && open) {
    const into = h("input", { testid: "merge-into", placeholder: "合并到单号，如 BX000012", maxlength: 16, autocomplete: "off" });
    box.push(
      h(
        "div",
        { class: "action-row" },
        h("label", {}, "合并"),
        into,
        h(
          "button",
          {
            type: "button",
            class: "btn",
            testid: "merge-submit",
            onclick: () => {
              const target = into.value.trim().toUpperCase();
              if (!target) return toast("请输入要合并到的单号", "error");
              act(() => api.post(`/api/tickets/${enc(number)}/merge`, { into: target }), `已合并到 ${target}`);
            },
          },
          "合并（本单是重复单）",
        ),
      ),
    );
  }
  if (canWork() || (may("tickets.work") && me.role !== "technician")) {
    const text = h("textarea", { testid: "comment-text", rows: 2, maxlength: 2000, placeholder: "内部备注（业主看不到）" });
    box.push(
      h(
        "div",
        { class: "action-row comment" },
        text,
        h(
          "button",
          {
            type: "button",
            class: "btn",
            testid: "comment-add",
            onclick: () => {
              const note = text.value.trim();
              if (!note) return;
              text.value = "";
              act(() => api.post(`/api/tickets/${enc(number)}/comments`, { note }), "备注已添加");
            },
          },
          "添加备注",
        ),
      ),
    );
  }
  return box;
}

function noteText() {
  const el = root.querySelector("[data-testid=status-note]");
  return el ? el.value.trim() : "";
}

function hold() {
  return setStatus("on_hold", noteText());
}

function finish() {
  return setStatus("resolved", noteText());
}

async function render() {
  const t = ticket;
  const acts = await actions();
  if (!root) return;
  fill(
    root,
    h(
      "div",
      { class: "page ticket-page", testid: "ticket-detail", dataset: { ticket: t.id, status: t.status } },
      h(
        "div",
        { class: "page-head" },
        h("a", { href: backHref(), class: "back" }, "‹ 返回"),
        h("h1", {}, t.id),
        h("span", { class: `status status-${t.status}`, testid: "ticket-status" }, STATUS[t.status] || t.status),
        t.hazard ? h("span", { class: "tag tag-danger" }, "险情") : null,
      ),
      h(
        "div",
        { class: "ticket-grid" },
        h(
          "section",
          { class: "panel" },
          h("p", { class: "description" }, t.description),
          detailRows(),
          acts.length ? h("div", { class: "actions" }, acts) : null,
        ),
        h("section", { class: "panel" }, h("h3", {}, "处理记录"), timeline()),
      ),
    ),
  );
  if (stopSla) stopSla();
  stopSla = startSlaClock(root);
}
