// 数据看板 for 主管: a period, the five numbers that matter (the same as GET /api/stats), where
// requests come from, how well deadlines and owners' satisfaction hold up month by month, the
// open backlog by age, and who carries what. Charts are ECharts (vendored, loaded by index.html).

import { api, explain, withQuery } from "./api.js";
import { h, fill, isoDate, $ } from "./dom.js";
import { KIND, STATUS, ROLE } from "./labels.js";

const PRESETS = [
  ["7d", "近 7 天"],
  ["30d", "近 30 天"],
  ["month", "本月"],
  ["90d", "近 90 天"],
];
const COLORS = ["#2563eb", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#06b6d4", "#ec4899", "#84cc16", "#64748b"];
const AGE = { "<1d": "1天内", "1-3d": "1-3天", "3-7d": "3-7天", ">7d": "7天以上" };

let root = null;
let charts = [];
let period = { preset: "30d", from: "", to: "" };
let onResize = null;

function range(preset) {
  const today = new Date();
  const from = new Date(today);
  if (preset === "7d") from.setDate(today.getDate() - 6);
  else if (preset === "30d") from.setDate(today.getDate() - 29);
  else if (preset === "90d") from.setDate(today.getDate() - 89);
  else if (preset === "month") from.setDate(1);
  return { from: isoDate(from), to: isoDate(today) };
}

// The API rounds rates to 4 decimals: shown as a percentage with up to 2 decimals, the tile says
// exactly the number /api/stats gives (no second rounding that could disagree with it).
const pct = (rate) => (rate === null || rate === undefined ? "—" : `${Math.round(rate * 10000) / 100}%`);

export async function mount(el) {
  root = el;
  if (!period.from) Object.assign(period, range(period.preset));
  const from = h("input", { type: "date", testid: "date-from", value: period.from });
  const to = h("input", { type: "date", testid: "date-to", value: period.to });
  const custom = () => {
    if (!from.value || !to.value) return;
    Object.assign(period, { preset: "", from: from.value, to: to.value });
    load();
  };
  from.addEventListener("change", custom);
  to.addEventListener("change", custom);
  fill(
    root,
    h(
      "div",
      { class: "page dashboard" },
      h(
        "div",
        { class: "page-head" },
        h("h1", {}, "数据看板"),
        h(
          "div",
          { class: "presets" },
          PRESETS.map(([key, text]) =>
            h("button", { type: "button", class: "chip", testid: `preset-${key}`, dataset: { preset: key }, onclick: () => { Object.assign(period, { preset: key }, range(key)); from.value = period.from; to.value = period.to; load(); } }, text),
          ),
          from,
          h("span", { class: "muted" }, "至"),
          to,
        ),
        h("a", { class: "btn btn-small", testid: "stats-csv", id: "stats-csv", href: "/api/stats.csv", download: "统计.csv" }, "导出 CSV"),
      ),
      h("div", { class: "kpis", id: "kpis" }),
      h(
        "div",
        { class: "charts" },
        chartBox("kind", "报修 / 投诉"),
        chartBox("category", "问题分类"),
        chartBox("building", "按楼栋"),
        chartBox("sla", "按时率（响应 / 完成）", "wide"),
        chartBox("satisfaction", "满意率（目标 90%）"),
        chartBox("backlog", "未完结工单（按已等待时间）"),
      ),
      h("section", { class: "panel pad" }, h("h3", {}, "员工"), h("div", { class: "table-wrap" }, h("table", { class: "staff-stats", testid: "staff-table", id: "staff-table" }))),
      h("p", { class: "muted small", id: "stats-note" }),
    ),
  );
  onResize = () => charts.forEach((c) => c.resize());
  window.addEventListener("resize", onResize);
  await load();
}

export function unmount() {
  window.removeEventListener("resize", onResize);
  disposeCharts();
  root = null;
}

function disposeCharts() {
  charts.forEach((c) => c.dispose());
  charts = [];
}

function chartBox(key, title, extra = "") {
  return h("section", { class: ["panel", "chart-box", extra] }, h("h3", {}, title), h("div", { class: "chart", testid: "chart", dataset: { chart: key } }));
}

async function load() {
  if (!root) return;
  for (const b of root.querySelectorAll(".chip")) b.classList.toggle("active", b.dataset.preset === period.preset);
  const params = { from: period.from, to: period.to };
  $("#stats-csv").href = withQuery("/api/stats.csv", params);
  try {
    const stats = await api.get("/api/stats", params);
    if (!root) return;
    renderKpis(stats);
    renderCharts(stats);
    renderStaff(stats.by_staff || []);
    $("#stats-note").textContent = `统计口径：${stats.period.from} 至 ${stats.period.to} 新建的工单（合并的重复单 ${stats.excluded ? stats.excluded.merged : 0} 张不计）；未完结工单为当前全部。生成于 ${new Date(stats.generated_at).toLocaleString("zh-CN")}。`;
  } catch (err) {
    if (root) fill($("#kpis"), h("p", { class: "empty" }, explain(err)));
  }
}

function kpi(key, title, value, text, sub, tone) {
  return h(
    "div",
    { class: ["panel", "kpi-tile", tone] },
    h("div", { class: "kpi-title" }, title),
    h("div", { class: "kpi-value", testid: "kpi", dataset: { key, value: value === null || value === undefined ? "" : String(value) } }, text),
    h("div", { class: "kpi-sub muted small" }, sub),
  );
}

function renderKpis(s) {
  const r = s.sla.respond;
  const v = s.sla.resolve;
  const sat = s.satisfaction;
  const med = s.response_minutes && s.response_minutes.median;
  const tone = (rate, goal) => (rate === null || rate === undefined ? "" : rate >= goal ? "tone-good" : "tone-bad");
  fill(
    $("#kpis"),
    kpi("tickets", "新建工单", s.tickets, String(s.tickets), `报修 ${s.by_kind.repair || 0} · 投诉 ${s.by_kind.complaint || 0} · 返修 ${s.reopened || 0}`),
    kpi("respond_rate", "响应按时率", r.rate, pct(r.rate), `${r.met}/${r.due} 按时${med !== null && med !== undefined ? ` · 中位 ${med} 分钟` : ""}`, tone(r.rate, 0.9)),
    kpi("resolve_rate", "完成按时率", v.rate, pct(v.rate), `${v.met}/${v.due} 按时 · ${v.not_yet_due} 未到期`, tone(v.rate, 0.9)),
    kpi("satisfaction_rate", "满意率", sat.rate, pct(sat.rate), `${sat.satisfied}/${sat.ratings} 满意 · 目标 ${pct(sat.target)}`, tone(sat.rate, sat.target || 0.9)),
    kpi("backlog", "未完结工单", s.backlog.total, String(s.backlog.total), `7天以上 ${s.backlog.by_age[">7d"] || 0} 张`, s.backlog.by_age[">7d"] ? "tone-bad" : ""),
  );
}

function init(key, option) {
  const el = root.querySelector(`[data-chart=${key}]`);
  if (!window.echarts) {
    fill(el, h("p", { class: "empty" }, "图表组件未加载"));
    return;
  }
  const chart = window.echarts.init(el, null, { renderer: "canvas" });
  chart.setOption({ color: COLORS, textStyle: { fontFamily: "inherit" }, animationDuration: 300, ...option });
  charts.push(chart);
}

const grid = { left: 48, right: 16, top: 28, bottom: 36, containLabel: true };
const percentAxis = { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } };
const asPct = (rate) => (rate === null || rate === undefined ? null : Math.round(rate * 1000) / 10);

/** A quiet note in an empty chart (its axes still drawn). */
function noData(empty, text) {
  return empty ? { text, left: "center", top: "middle", textStyle: { color: "#94a3b8", fontSize: 13, fontWeight: "normal" } } : undefined;
}

function renderCharts(s) {
  disposeCharts();
  init("kind", {
    tooltip: { trigger: "item", formatter: "{b}：{c}（{d}%）" },
    legend: { bottom: 0 },
    series: [{ type: "pie", radius: ["40%", "68%"], center: ["50%", "45%"], label: { formatter: "{b} {c}" }, data: Object.entries(s.by_kind).map(([k, n]) => ({ name: KIND[k] || k, value: n })) }],
  });
  const cats = (s.by_category || []).slice(0, 12).reverse();
  init("category", {
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    grid: { ...grid, left: 8 },
    xAxis: { type: "value", minInterval: 1 },
    yAxis: { type: "category", data: cats.map((c) => c.label) },
    series: [{ type: "bar", data: cats.map((c) => c.count), label: { show: true, position: "right" }, itemStyle: { color: COLORS[0] } }],
  });
  const buildings = (s.by_building || []).slice(0, 20);
  init("building", {
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    grid,
    xAxis: { type: "category", data: buildings.map((b) => (b.building ? `${b.building}${/^\d+$/.test(b.building) ? "号楼" : ""}` : "公共区域")), axisLabel: { interval: 0, rotate: buildings.length > 8 ? 30 : 0 } },
    yAxis: { type: "value", minInterval: 1 },
    series: [{ type: "bar", data: buildings.map((b) => b.count), itemStyle: { color: COLORS[2] }, barMaxWidth: 36 }],
  });
  const months = s.sla_by_month || [{ month: `${s.period.from}~${s.period.to}`, respond: s.sla.respond, resolve: s.sla.resolve }];
  init("sla", {
    tooltip: { trigger: "axis", valueFormatter: (v) => (v === null || v === undefined ? "—" : `${v}%`) },
    legend: { bottom: 0 },
    grid: { ...grid, top: 24, bottom: 40 },
    title: noData(months.every((m) => !(m.respond && m.respond.due) && !(m.resolve && m.resolve.due)), "还没有到期的工单"),
    xAxis: { type: "category", data: months.map((m) => m.month) },
    yAxis: percentAxis,
    // A trend needs a few months; fewer are clearer as bars side by side.
    series: [
      ["响应按时率", (m) => m.respond],
      ["完成按时率", (m) => m.resolve],
    ].map(([name, of]) =>
      months.length >= 3
        ? { name, type: "line", smooth: true, connectNulls: true, symbolSize: 7, data: months.map((m) => asPct(of(m) && of(m).rate)) }
        : { name, type: "bar", barMaxWidth: 36, label: { show: true, position: "top", formatter: "{c}%" }, data: months.map((m) => asPct(of(m) && of(m).rate)) },
    ),
  });
  const sat = s.satisfaction_by_month || [{ month: `${s.period.from}~${s.period.to}`, ratings: s.satisfaction.ratings, rate: s.satisfaction.rate }];
  const target = asPct(s.satisfaction.target || 0.9);
  init("satisfaction", {
    tooltip: { trigger: "axis", formatter: (p) => p.map((x) => `${x.name}：${x.value === null || x.value === undefined ? "—" : `${x.value}%`}（${sat[x.dataIndex].ratings} 条评价）`).join("<br>") },
    grid,
    title: noData(sat.every((m) => !m.ratings), "这段时间还没有业主评价"),
    xAxis: { type: "category", data: sat.map((m) => m.month) },
    yAxis: percentAxis,
    series: [
      {
        name: "满意率",
        type: "bar",
        barMaxWidth: 36,
        data: sat.map((m) => ({ value: asPct(m.rate), itemStyle: { color: m.rate !== null && m.rate !== undefined && m.rate * 100 < target ? COLORS[3] : COLORS[2] } })),
        markLine: { symbol: "none", lineStyle: { color: COLORS[3], type: "dashed" }, label: { formatter: `目标 ${target}%`, position: "insideEndTop" }, data: [{ yAxis: target }] },
      },
    ],
  });
  const ages = Object.keys(s.backlog.by_age);
  const statuses = Object.keys(s.backlog.by_status || {});
  init("backlog", {
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    legend: { bottom: 0, type: "scroll" },
    grid: { ...grid, bottom: 40 },
    xAxis: { type: "category", data: ages.map((a) => AGE[a] || a) },
    yAxis: { type: "value", minInterval: 1 },
    series: statuses.map((st) => ({ name: STATUS[st] || st, type: "bar", stack: "age", barMaxWidth: 48, data: ages.map((a) => s.backlog.by_status[st][a]) })),
  });
}

function renderStaff(rows) {
  const table = $("#staff-table");
  const head = h("thead", {}, h("tr", {}, ["员工", "派给TA", "已完成", "未完结", "超时未完结", "完成按时率", "满意率"].map((t) => h("th", {}, t))));
  const body = h(
    "tbody",
    {},
    rows.length
      ? rows.map((r) =>
          h(
            "tr",
            { dataset: { username: r.username } },
            h("td", {}, r.name || r.username, r.name && r.name !== r.username ? h("span", { class: "muted small" }, ` ${r.username}`) : null, r.role ? h("span", { class: "muted small" }, ` ${ROLE[r.role] || r.role}`) : null),
            h("td", { class: "num" }, String(r.assigned ?? "—")),
            h("td", { class: "num" }, String(r.resolved ?? "—")),
            h("td", { class: "num" }, String(r.open ?? "—")),
            h("td", { class: ["num", r.overdue ? "bad" : ""] }, String(r.overdue ?? "—")),
            h("td", { class: "num" }, pct(r.resolve_on_time_rate)),
            h("td", { class: "num" }, pct(r.satisfaction_rate)),
          ),
        )
      : h("tr", {}, h("td", { colspan: 7, class: "empty" }, "这段时间没有派单记录")),
  );
  fill(table, head, body);
}
