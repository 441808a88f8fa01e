// 工单池: every ticket in the caller's communities, filtered and sorted (breached first by
// default), with the SLA countdown ticking and the 催单 count; a row opens the ticket.

import { api, explain, withQuery } from "./api.js";
import { h, fill, fmtTime, debounce, $ } from "./dom.js";
import { KIND, PRIORITY, STATUS, CATEGORY, REPAIR_CATEGORIES, COMPLAINT_CATEGORIES, label, flatOf } from "./labels.js";
import { slaCell, startSlaClock } from "./sla.js";
import { staffList, staffPicker } from "./staffpick.js";

const PAGE = 50;
// Kept while the console is open: back from a ticket, the pool is as it was left.
const filters = { kind: "", status: "", priority: "", category: "", building: "", assignee: "", overdue: false, q: "", sort: "urgency", offset: 0 };
let root = null;
let stopSla = null;
let loading = false;

const enc = encodeURIComponent;

function options(table, codes, all = "全部") {
  return [h("option", { value: "" }, all), ...codes.map((c) => h("option", { value: c }, table[c] || c))];
}

function select(testid, opts, key) {
  const el = h("select", { testid, onchange: (ev) => setFilter(key, ev.target.value) }, opts);
  el.value = filters[key];
  return el;
}

function setFilter(key, value) {
  filters[key] = value;
  filters.offset = 0;
  load();
}

/** A number (BX000123, 123) or a whole flat (3-2-501, 3号楼2单元501): what the API can search. */
export function searchable(text) {
  return /^(bx|ts)?\d+$/i.test(text) || /\d+\D+\d+\D+\d+/.test(text);
}

/** The API's query for the current filters. */
function query() {
  const q = {
    kind: filters.kind,
    status: filters.status,
    priority: filters.priority,
    category: filters.category,
    building: filters.building,
    assignee: filters.assignee,
    overdue: filters.overdue ? "1" : "",
    q: searchable(filters.q) ? filters.q : "",
    sort: filters.sort,
  };
  return q;
}

export async function mount(el) {
  root = el;
  const members = await staffList();
  if (root !== el) return; // left for another screen meanwhile
  const categoryOptions = [
    h("option", { value: "" }, "全部分类"),
    h("optgroup", { label: "报修" }, REPAIR_CATEGORIES.filter((c) => c !== "other").map((c) => h("option", { value: c }, CATEGORY[c]))),
    h("optgroup", { label: "投诉" }, COMPLAINT_CATEGORIES.filter((c) => c !== "other").map((c) => h("option", { value: c }, CATEGORY[c]))),
    h("option", { value: "other" }, "其他"),
  ];
  const statusOptions = [h("option", { value: "" }, "全部状态"), h("option", { value: "open" }, "未完结"), ...Object.keys(STATUS).map((s) => h("option", { value: s }, STATUS[s]))];
  const assignee = staffPicker({ testid: "filter-assignee", members, value: filters.assignee, placeholder: "负责人用户名", allowEmpty: true, emptyText: "全部负责人" });
  assignee.addEventListener(assignee.tagName === "SELECT" ? "change" : "input", debounce((ev) => setFilter("assignee", ev.target.value.trim()), assignee.tagName === "SELECT" ? 0 : 400));
  const building = h("input", { testid: "filter-building", placeholder: "楼栋", value: filters.building, inputmode: "numeric", class: "narrow", oninput: debounce((ev) => setFilter("building", ev.target.value.trim()), 400) });
  const search = h("input", {
    type: "search",
    testid: "ticket-search",
    placeholder: "单号或房号 3-2-501",
    title: "输入单号（BX000123）或完整房号（3-2-501）",
    value: filters.q,
    oninput: debounce((ev) => {
      const text = ev.target.value.trim();
      ev.target.classList.toggle("invalid", Boolean(text) && !searchable(text));
      if (!text || searchable(text) || searchable(filters.q)) setFilter("q", text);
      else filters.q = text;
    }, 300),
  });
  const overdue = h("input", { type: "checkbox", testid: "filter-overdue", checked: filters.overdue, onchange: (ev) => setFilter("overdue", ev.target.checked) });
  const sort = select("sort", [h("option", { value: "urgency" }, "按紧急程度"), h("option", { value: "created" }, "按创建时间"), h("option", { value: "updated" }, "按更新时间")], "sort");
  fill(
    root,
    h(
      "div",
      { class: "page" },
      h("div", { class: "page-head" }, h("h1", {}, "工单池"), h("span", { class: "muted", id: "ticket-total" }), h("a", { class: "btn btn-small", testid: "export-csv", id: "export-csv", href: "/api/tickets.csv", download: "工单.csv" }, "导出 CSV")),
      h(
        "div",
        { class: "filters panel" },
        search,
        select("filter-kind", options(KIND, Object.keys(KIND), "全部类型"), "kind"),
        select("filter-status", statusOptions, "status"),
        select("filter-priority", options(PRIORITY, Object.keys(PRIORITY), "全部优先级"), "priority"),
        select("filter-category", categoryOptions, "category"),
        building,
        assignee,
        h("label", { class: "check" }, overdue, "只看超时"),
        sort,
      ),
      h(
        "div",
        { class: "panel table-wrap" },
        h(
          "table",
          { class: "tickets" },
          h("thead", {}, h("tr", {}, ["单号", "类型 / 分类", "位置", "问题描述", "状态", "优先级", "负责人", "时限", "催单", "创建"].map((t) => h("th", {}, t)))),
          h("tbody", { id: "ticket-rows" }),
        ),
      ),
      h("div", { class: "pager", id: "pager" }),
    ),
  );
  stopSla = startSlaClock(root);
  await load();
}

export function unmount() {
  if (stopSla) stopSla();
  root = null;
}

let lastLive = 0;
/** Live change: refetch, at most every 2 s (the pool is busy on a big estate). */
export function refresh() {
  const now = Date.now();
  if (now - lastLive < 2000 || loading) return;
  lastLive = now;
  load();
}

async function load() {
  if (!root) return;
  loading = true;
  const q = query();
  $("#export-csv").href = withQuery("/api/tickets.csv", q);
  try {
    const { data, headers } = await api.page("/api/tickets", { ...q, limit: PAGE, offset: filters.offset });
    if (!root) return;
    const total = Number(headers.get("X-Total-Count") || data.length);
    render(data, total);
  } catch (err) {
    if (root) fill($("#ticket-rows"), h("tr", {}, h("td", { colspan: 10, class: "empty" }, explain(err))));
  } finally {
    loading = false;
  }
}

function render(rows, total) {
  $("#ticket-total").textContent = `共 ${total} 张`;
  if (!rows.length) {
    fill($("#ticket-rows"), h("tr", {}, h("td", { colspan: 10, class: "empty" }, "没有符合条件的工单")));
  } else {
    fill(
      $("#ticket-rows"),
      rows.map((t) =>
        h(
          "tr",
          {
            testid: "ticket-row",
            dataset: { ticket: t.id },
            class: ["clickable", `prio-${t.priority}`],
            tabindex: "0",
            onclick: () => (location.hash = `#/tickets/${enc(t.id)}`),
            onkeydown: (ev) => ev.key === "Enter" && (location.hash = `#/tickets/${enc(t.id)}`),
          },
          h("td", { class: "num" }, h("a", { href: `#/tickets/${enc(t.id)}` }, t.id)),
          h("td", { "data-label": "类型" }, label(KIND, t.kind), " · ", t.category_label || CATEGORY[t.category] || t.category || "—"),
          h("td", { "data-label": "位置" }, flatOf(t) || "—"),
          h("td", { class: "desc", "data-label": "描述", title: t.description }, t.hazard ? h("span", { class: "tag tag-danger" }, "险情") : null, t.description),
          h("td", { "data-label": "状态" }, h("span", { class: `status status-${t.status}` }, STATUS[t.status] || t.status)),
          h("td", { "data-label": "优先级" }, h("span", { class: `prio prio-${t.priority}` }, label(PRIORITY, t.priority))),
          h("td", { "data-label": "负责人" }, t.assignee ? t.assignee_name || t.assignee : h("span", { class: "muted" }, "未派单")),
          h("td", { "data-label": "时限" }, slaCell(t)),
          h("td", { "data-label": "催单", class: "chases" }, t.chases ? h("span", { class: "chase" }, `催 ${t.chases}`) : h("span", { class: "muted" }, "0")),
          h("td", { "data-label": "创建", class: "muted" }, fmtTime(t.created_at)),
        ),
      ),
    );
  }
  const pager = $("#pager");
  const page = Math.floor(filters.offset / PAGE) + 1;
  const pages = Math.max(1, Math.ceil(total / PAGE));
  fill(
    pager,
    h("button", { type: "button", class: "btn btn-small", disabled: filters.offset === 0, onclick: () => { filters.offset -= PAGE; load(); } }, "上一页"),
    h("span", { class: "muted" }, `第 ${page} / ${pages} 页`),
    h("button", { type: "button", class: "btn btn-small", disabled: filters.offset + PAGE >= total, onclick: () => { filters.offset += PAGE; load(); } }, "下一页"),
  );
}
