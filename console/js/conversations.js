// 会话: owners waiting for a person (longest wait first, with why), mine, the assistant's
// (read-only until taken over) and all. Claiming one shows the whole transcript with delivery
// state, the owner's flat and open tickets; replies go out through the owner's own channel.

import { api, explain, may, currentMe, ApiError, communityNames } from "./api.js";
import { h, fill, fmtTime, fmtDuration, toast, dialog, debounce, $ } from "./dom.js";
import { CHANNEL, DELIVERY, OUT_KIND, REASON, STATUS, KIND, label, flatOf } from "./labels.js";
import { slaCell, startSlaClock } from "./sla.js";

const TABS = [
  ["waiting", "待人工"],
  ["mine", "我的"],
  ["bot", "机器人接待中"],
  ["all", "全部"],
];

let root = null;
let state = null;
let timer = null;
let stopSla = null;

const enc = encodeURIComponent;

/** An owner's chat id is personal: the list shows the channel and its last characters. */
function who(row) {
  const [channel, id = ""] = String(row.sender || "").split(":", 2);
  return `${CHANNEL[channel] || channel}用户 ·${id.slice(-4)}`;
}

function reasonLabel(row) {
  if (row.reason_label) return row.reason_label;
  const code = (row.handoff_reason || "").split(":", 1)[0];
  return REASON[code] || row.handoff_reason || "";
}

export async function mount(el, arg) {
  root = el;
  state = { tab: "waiting", q: "", rows: [], fetchedAt: Date.now(), selected: arg || null, info: null, log: [], canned: [], editCanned: false, busy: false, again: false };
  const search = h("input", {
    type: "search",
    placeholder: "搜索房号（3-2-501）或手机号",
    testid: "conv-search",
    "aria-label": "搜索会话",
    oninput: debounce((ev) => {
      state.q = ev.target.value.trim();
      loadList();
    }, 300),
  });
  const tabs = h(
    "div",
    { class: "tabs", role: "tablist" },
    TABS.map(([key, text]) =>
      h(
        "button",
        { type: "button", role: "tab", class: "tab", testid: `tab-${key}`, dataset: { tab: key }, onclick: () => selectTab(key) },
        text,
        key === "waiting" ? h("span", { class: "tab-count", id: "waiting-count", hidden: true }) : null,
      ),
    ),
  );
  fill(
    root,
    h(
      "div",
      { class: "conv-layout", id: "conv-layout" },
      h("aside", { class: "conv-list panel" }, tabs, h("div", { class: "search" }, search), h("div", { class: "list", id: "conv-rows", testid: "conv-list" })),
      h("section", { class: "conv-main panel", id: "conv-main" }),
      h("aside", { class: "conv-side", id: "conv-side" }),
    ),
  );
  markTab();
  window.addEventListener("wuye:badge", showCount);
  timer = setInterval(tickWaits, 1000);
  state.communities = {};
  await Promise.all([loadList(), loadCanned(), communityNames().then((names) => (state.communities = names))]);
  if (root !== el) return; // left for another screen meanwhile
  await showSelected();
}

/** The shell's waiting count, shown on the 待人工 tab too. */
function showCount(ev) {
  const el = root && root.querySelector("#waiting-count");
  if (!el) return;
  el.textContent = String(ev.detail);
  el.hidden = !(ev.detail > 0);
}

export function unmount() {
  clearTimeout(deliveryTimer);
  window.removeEventListener("wuye:badge", showCount);
  clearInterval(timer);
  if (stopSla) stopSla();
  root = null;
}

/** Another conversation chosen (the hash changed) while the screen is up. */
export async function update(arg) {
  state.selected = arg || null;
  renderList();
  await showSelected();
}

/** A live change: refetch what is on screen (one refresh at a time, one more queued). */
export async function refresh() {
  if (!root) return;
  if (state.busy) {
    state.again = true;
    return;
  }
  state.busy = true;
  try {
    await loadList();
    if (state.selected) await loadConversation(false);
  } finally {
    state.busy = false;
    if (state.again) {
      state.again = false;
      refresh();
    }
  }
}

function selectTab(tab) {
  state.tab = tab;
  markTab();
  loadList();
}

function markTab() {
  for (const b of root.querySelectorAll(".tab")) {
    const on = b.dataset.tab === state.tab;
    b.classList.toggle("active", on);
    b.setAttribute("aria-selected", String(on));
  }
}

async function loadList() {
  try {
    const rows = await api.get("/api/conversations", { tab: state.tab, q: state.q });
    state.rows = rows;
    state.fetchedAt = Date.now();
    if (state.tab === "waiting" && !state.q) window.dispatchEvent(new CustomEvent("wuye:waiting", { detail: rows.length }));
    renderList();
  } catch (err) {
    if (root) fill($("#conv-rows"), h("p", { class: "empty" }, explain(err)));
  }
}

function waitSeconds(row) {
  if (typeof row.waiting_seconds === "number") return row.waiting_seconds + (Date.now() - state.fetchedAt) / 1000;
  if (row.handed_off_at) return (Date.now() - Date.parse(row.handed_off_at)) / 1000;
  return null;
}

function renderList() {
  const box = root && $("#conv-rows");
  if (!box) return;
  const me = currentMe();
  if (!state.rows.length) {
    const empty = { waiting: "没有等待人工的业主 🎉", mine: "您手上没有会话", bot: "机器人没有正在接待的会话", all: "没有会话" };
    fill(box, h("p", { class: "empty" }, state.q ? "没有找到匹配的会话" : empty[state.tab]));
    return;
  }
  fill(
    box,
    state.rows.map((row) => {
      const handedOff = row.state === "handed_off";
      const wait = handedOff ? waitSeconds(row) : null;
      return h(
        "a",
        {
          href: `#/conversations/${enc(row.sender)}`,
          class: ["conv-row", row.sender === state.selected && "selected", handedOff && !row.assignee && "unclaimed"],
          testid: "conv-row",
          dataset: { sender: row.sender },
        },
        h("div", { class: "row-top" }, h("strong", { class: "flat" }, row.flat || who(row)), wait !== null ? h("span", { class: "wait", dataset: { since: String(Date.now() - wait * 1000) } }, fmtDuration(wait)) : h("span", { class: "muted small" }, fmtTime(row.last_inbound_at))),
        h(
          "div",
          { class: "row-mid" },
          handedOff ? h("span", { class: ["reason", String(row.handoff_reason || "").startsWith("emergency") && "urgent"] }, reasonLabel(row)) : h("span", { class: "tag tag-bot" }, "机器人"),
          h("span", { class: "tag" }, CHANNEL[row.channel] || row.channel || ""),
          row.assignee ? h("span", { class: ["tag", row.assignee === (me && me.username) ? "tag-mine" : "tag-other"] }, row.assignee === (me && me.username) ? "我处理中" : `${row.assignee_name || row.assignee} 处理中`) : null,
        ),
        row.last_text ? h("div", { class: "row-text" }, row.last_text) : null,
      );
    }),
  );
}

function tickWaits() {
  if (!root) return;
  for (const el of root.querySelectorAll(".wait[data-since]")) {
    el.textContent = fmtDuration((Date.now() - Number(el.dataset.since)) / 1000);
  }
}

async function showSelected() {
  if (!root) return;
  $("#conv-layout").classList.toggle("has-selection", Boolean(state.selected));
  if (!state.selected) {
    delete $("#conv-main").dataset.sender;
    fill($("#conv-main"), h("div", { class: "empty big" }, h("h2", {}, "选择左侧的会话"), h("p", { class: "muted" }, "待人工的业主按等待时间排列，等得最久的在最上面。")));
    fill($("#conv-side"));
    return;
  }
  state.info = null;
  state.log = [];
  deliveryTries = 0;
  const main = $("#conv-main");
  delete main.dataset.sender;
  fill(main, h("p", { class: "loading" }, "正在加载会话…"));
  await loadConversation(true);
}

async function loadConversation(first) {
  const sender = state.selected;
  try {
    const [info, log] = await Promise.all([
      api.get(`/api/conversations/${enc(sender)}`).catch((err) => {
        if (err instanceof ApiError && err.status === 404 && state.rows.some((r) => r.sender === sender)) return null;
        throw err;
      }),
      api.get(`/api/conversations/${enc(sender)}/messages`),
    ]);
    if (sender !== state.selected || !root) return;
    state.info = info || state.rows.find((r) => r.sender === sender) || { sender };
    state.log = log;
    renderConversation(first);
    watchDelivery(sender);
  } catch (err) {
    if (sender !== state.selected || !root) return;
    delete $("#conv-main").dataset.sender;
    fill($("#conv-main"), h("div", { class: "empty" }, h("h2", {}, "无法打开会话"), h("p", {}, explain(err))));
    fill($("#conv-side"));
  }
}

/** A delivery's outcome is not news to the live feed: while something is still on its way to
 * the owner, look again every couple of seconds (for a minute at most). */
let deliveryTimer = null;
let deliveryTries = 0;
function watchDelivery(sender) {
  clearTimeout(deliveryTimer);
  const pending = state.log.some((e) => e.direction === "out" && e.status === "pending");
  if (!pending) {
    deliveryTries = 0;
    return;
  }
  if (++deliveryTries > 30) return;
  deliveryTimer = setTimeout(() => {
    if (root && state.selected === sender) loadConversation(false);
  }, 2000);
}

function holder() {
  const me = currentMe();
  const info = state.info || {};
  const other = info.assignee && me && info.assignee !== me.username ? info.assignee_name || info.assignee : null;
  return { mine: Boolean(info.assignee && me && info.assignee === me.username), other };
}

function renderConversation(first) {
  const main = $("#conv-main");
  const info = state.info;
  const { mine, other } = holder();
  const handedOff = info.state === "handed_off";

  const actions = [];
  if (mine) {
    actions.push(h("button", { type: "button", class: "btn", testid: "handback", onclick: handBack }, "交还机器人"));
  } else if (other) {
    actions.push(h("span", { class: "holder" }, `${other} 正在处理`));
    if (["supervisor", "admin"].includes(currentMe().role)) {
      actions.push(h("button", { type: "button", class: "btn", testid: "claim", onclick: () => claim(true) }, "强制接手"));
    }
  } else {
    actions.push(h("button", { type: "button", class: "btn btn-primary", testid: "claim", onclick: () => claim(false) }, handedOff ? "接手会话" : "接管对话"));
  }

  const header = h(
    "div",
    { class: "conv-head" },
    h("a", { href: "#/conversations", class: "back", "aria-label": "返回列表" }, "‹ 列表"),
    h(
      "div",
      { class: "conv-title" },
      h("h2", {}, (info.binding && info.binding.flat) || info.flat || who(info)),
      h(
        "div",
        { class: "muted small" },
        CHANNEL[info.channel] || info.channel || "",
        " · ",
        handedOff ? `人工接待（${reasonLabel(info) || "—"}，${fmtTime(info.handed_off_at)} 起）` : "机器人接待中",
      ),
    ),
    h("div", { class: "conv-actions" }, actions),
  );
  const transcript = h("div", { class: "transcript", testid: "transcript", "aria-live": "polite" }, renderLog(state.log));

  // A live refresh replaces the header and the transcript only: what staff are typing (and
  // where the caret is) stays as it was.
  const old = main.dataset.sender === state.selected ? main.querySelector("[data-testid=transcript]") : null;
  if (old) {
    const wasAtBottom = old.scrollHeight - old.scrollTop - old.clientHeight < 60;
    const scrolled = old.scrollTop;
    main.querySelector(".conv-head").replaceWith(header);
    old.replaceWith(transcript);
    transcript.scrollTop = wasAtBottom ? transcript.scrollHeight : scrolled;
  } else {
    main.dataset.sender = state.selected;
    fill(main, header, transcript, composer());
    transcript.scrollTop = transcript.scrollHeight;
  }
  const reply = main.querySelector("[data-testid=reply-text]");
  reply.disabled = !mine;
  reply.placeholder = mine ? "回复业主（Ctrl+Enter 发送），通过业主所用的渠道送达" : handedOff ? "接手会话后才能回复" : "机器人接待中（只读）。接管对话后才能回复";
  main.querySelector("[data-testid=reply-send]").disabled = !mine;
  if (first && mine) reply.focus();
  renderSide();
}

function composer() {
  const reply = h("textarea", {
    testid: "reply-text",
    rows: 3,
    maxlength: 2000,
    onkeydown: (ev) => {
      if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) send();
    },
  });
  const note = h("input", { testid: "note-text", maxlength: 2000, placeholder: "内部备注（业主看不到）", onkeydown: (ev) => ev.key === "Enter" && addNote() });
  return h(
    "div",
    { class: "composer" },
    reply,
    h("div", { class: "composer-actions" }, h("button", { type: "button", class: "btn btn-primary", testid: "reply-send", onclick: send }, "发送")),
    h("div", { class: "note-row" }, note, h("button", { type: "button", class: "btn", testid: "note-add", onclick: addNote }, "添加备注")),
  );
}

/** Staff by name where we know it (the signed-in member), else by username. */
function staffName(username, name) {
  const me = currentMe();
  if (me && username === me.username) return `${me.name || me.username}（我）`;
  return name || username || "";
}

function deliveryText(entry) {
  const parts = [DELIVERY[entry.status] || entry.status || ""];
  if (entry.delivered_via) parts.push(`经${CHANNEL[entry.delivered_via] || entry.delivered_via}`);
  if (entry.delivered_at) parts.push(fmtTime(entry.delivered_at));
  return parts.filter(Boolean).join(" · ");
}

function renderLog(log) {
  if (!log.length) return [h("p", { class: "empty" }, "还没有消息")];
  const out = [];
  for (const entry of log) {
    if (entry.direction === "in") {
      out.push(
        h(
          "div",
          { class: "msg msg-in", testid: "msg", dataset: { direction: "in" } },
          h("div", { class: "msg-meta" }, "业主 · ", fmtTime(entry.at), entry.status === "failed" ? h("span", { class: "warn" }, " · 助手未能回复") : null),
          h("div", { class: "bubble" }, entry.text),
        ),
      );
      for (const reply of entry.replies || []) {
        out.push(h("div", { class: "msg msg-reply", testid: "msg", dataset: { direction: "reply" } }, h("div", { class: "msg-meta" }, "助手"), h("div", { class: "bubble" }, reply)));
      }
    } else if (entry.direction === "note") {
      out.push(
        h(
          "div",
          { class: "msg msg-note", testid: "msg", dataset: { direction: "note" } },
          h("div", { class: "msg-meta" }, "内部备注 · ", staffName(entry.author, entry.author_name), " · ", fmtTime(entry.at)),
          h("div", { class: "bubble" }, entry.text),
        ),
      );
    } else {
      const staff = entry.author || entry.kind === "staff" || entry.kind === "staff_message";
      out.push(
        h(
          "div",
          { class: ["msg", staff ? "msg-out" : "msg-system"], testid: "msg", dataset: { direction: "out", status: entry.status || "" } },
          h("div", { class: "msg-meta" }, entry.author ? staffName(entry.author, entry.author_name) : OUT_KIND[entry.kind] || "系统通知", " · ", fmtTime(entry.at)),
          h("div", { class: "bubble" }, entry.text),
          h("div", { class: ["delivery", `delivery-${entry.status}`] }, deliveryText(entry)),
        ),
      );
    }
  }
  return out;
}

function renderSide() {
  const info = state.info || {};
  const side = $("#conv-side");
  const b = info.binding;
  const binding = h(
    "section",
    { class: "panel side-box", testid: "binding" },
    h("h3", {}, "业主信息"),
    b
      ? h(
          "dl",
          { class: "kv" },
          h("dt", {}, "房屋"),
          h("dd", {}, flatOf(b)),
          b.owner_name ? [h("dt", {}, "业主"), h("dd", {}, b.owner_name)] : null,
          b.phone ? [h("dt", {}, "电话"), h("dd", {}, b.phone)] : null,
          b.community ? [h("dt", {}, "小区"), h("dd", {}, state.communities[b.community] || b.community)] : null,
        )
      : h("div", {}, h("p", { class: "muted" }, "未绑定房屋"), h("button", { type: "button", class: "btn btn-small", testid: "bind-owner", onclick: bindOwner }, "核实身份并绑定")),
  );
  const tickets = info.open_tickets || [];
  const open = h(
    "section",
    { class: "panel side-box", testid: "open-tickets" },
    h("h3", {}, "未完结工单 ", h("span", { class: "count" }, String(tickets.length))),
    tickets.length
      ? h(
          "ul",
          { class: "mini-list" },
          tickets.map((t) =>
            h(
              "li",
              {},
              h("a", { href: `#/tickets/${enc(t.id)}` }, t.id),
              " ",
              h("span", { class: `status status-${t.status}` }, STATUS[t.status] || t.status),
              " ",
              slaCell(t),
              h("div", { class: "muted small ellipsis" }, `${label(KIND, t.kind)} · ${t.description || ""}`),
            ),
          ),
        )
      : h("p", { class: "muted" }, "没有未完结的工单"),
    may("tickets.create") ? h("button", { type: "button", class: "btn btn-small", testid: "ticket-create", onclick: createTicket }, "代业主建单") : null,
  );
  fill(side, binding, open, renderCanned());
  if (stopSla) stopSla();
  stopSla = startSlaClock(side);
}

// -- 常用语 ------------------------------------------------------------------------------------

async function loadCanned() {
  try {
    state.canned = await api.get("/api/canned-replies");
  } catch (_err) {
    state.canned = [];
  }
  if (root && state.selected && state.info) renderSide();
}

function renderCanned() {
  const editing = state.editCanned;
  return h(
    "section",
    { class: "panel side-box" },
    h(
      "h3",
      {},
      "常用语",
      h("button", { type: "button", class: "link-btn", testid: "canned-edit", onclick: () => { state.editCanned = !editing; renderSide(); } }, editing ? "完成" : "编辑"),
    ),
    h(
      "ul",
      { class: "canned", testid: "canned" },
      state.canned.map((c) =>
        h(
          "li",
          {},
          h("button", { type: "button", class: "canned-item", title: c.text, dataset: { id: String(c.id) }, onclick: () => insertCanned(c.text) }, h("strong", {}, c.title), h("span", { class: "muted" }, c.text)),
          editing
            ? h(
                "span",
                { class: "canned-tools" },
                h("button", { type: "button", class: "link-btn", onclick: () => editCanned(c) }, "改"),
                h("button", { type: "button", class: "link-btn danger", onclick: () => deleteCanned(c) }, "删"),
              )
            : null,
        ),
      ),
      state.canned.length ? null : h("li", { class: "muted" }, "还没有常用语"),
    ),
    editing ? h("button", { type: "button", class: "btn btn-small", testid: "canned-add", onclick: () => editCanned(null) }, "新增常用语") : null,
  );
}

function insertCanned(text) {
  const box = root.querySelector("[data-testid=reply-text]");
  if (!box) return;
  const start = box.selectionStart ?? box.value.length;
  const end = box.selectionEnd ?? box.value.length;
  box.value = box.value.slice(0, start) + text + box.value.slice(end);
  if (!box.disabled) {
    box.focus();
    box.selectionStart = box.selectionEnd = start + text.length;
  }
}

async function editCanned(item) {
  const values = await dialog({
    title: item ? "修改常用语" : "新增常用语",
    fields: [
      { name: "title", label: "标题", value: item ? item.title : "" },
      { name: "text", label: "内容", type: "textarea", value: item ? item.text : "" },
    ],
    ok: "保存",
  });
  if (!values || !values.title.trim() || !values.text.trim()) return;
  try {
    if (item) await api.patch(`/api/canned-replies/${item.id}`, { title: values.title.trim(), text: values.text.trim() });
    else {
      // Staff of several communities say whose it is: the open conversation's.
      const me = currentMe();
      const body = { title: values.title.trim(), text: values.text.trim() };
      if ((me.communities || []).length > 1 && state.info && state.info.community) body.community = state.info.community;
      await api.post("/api/canned-replies", body);
    }
    toast("已保存");
    await loadCanned();
  } catch (err) {
    toast(explain(err), "error");
  }
}

async function deleteCanned(item) {
  const ok = await dialog({ title: "删除常用语", message: `删除「${item.title}」？`, ok: "删除", danger: true });
  if (!ok) return;
  try {
    await api.del(`/api/canned-replies/${item.id}`);
    await loadCanned();
  } catch (err) {
    toast(explain(err), "error");
  }
}

// -- actions -----------------------------------------------------------------------------------

async function claim(force) {
  const sender = state.selected;
  if (force) {
    const ok = await dialog({ title: "强制接手", message: `${holder().other} 正在处理这个会话。确定由您接手？`, ok: "接手" });
    if (!ok) return;
  }
  try {
    await api.post(`/api/conversations/${enc(sender)}/claim`, force ? { force: true } : {});
    toast("已接手，业主的消息将由您回复");
    if (state.tab === "waiting" || state.tab === "bot") {
      state.tab = "mine";
      markTab();
    }
  } catch (err) {
    toast(explain(err), "error");
  }
  await refreshNow();
}

async function handBack() {
  try {
    await api.post(`/api/conversations/${enc(state.selected)}/handback`);
    toast("已交还机器人");
  } catch (err) {
    toast(err.status === 503 ? "助手暂时无法连接，会话仍由您处理" : explain(err), "error");
  }
  await refreshNow();
}

async function send() {
  const box = root.querySelector("[data-testid=reply-text]");
  const text = box.value.trim();
  if (!text) return;
  const button = root.querySelector("[data-testid=reply-send]");
  button.disabled = true;
  try {
    await api.post(`/api/conversations/${enc(state.selected)}/messages`, { text });
    box.value = "";
  } catch (err) {
    toast(explain(err), "error");
  }
  button.disabled = false;
  await loadConversation(false);
  const transcript = root && root.querySelector("[data-testid=transcript]");
  if (transcript) transcript.scrollTop = transcript.scrollHeight;
}

async function addNote() {
  const box = root.querySelector("[data-testid=note-text]");
  const text = box.value.trim();
  if (!text) return;
  try {
    await api.post(`/api/conversations/${enc(state.selected)}/notes`, { text });
    box.value = "";
  } catch (err) {
    toast(explain(err), "error");
  }
  await loadConversation(false);
}

async function bindOwner() {
  const values = await dialog({
    title: "核实身份并绑定房屋",
    message: "请先电话或当面核实业主身份。手机号须与该房屋登记的一致。",
    fields: [
      { name: "building", label: "楼栋", placeholder: "3" },
      { name: "unit", label: "单元", placeholder: "2" },
      { name: "room", label: "房号", placeholder: "501" },
      { name: "phone", label: "登记手机号", type: "tel" },
    ],
    ok: "绑定",
  });
  if (!values) return;
  try {
    await api.post(`/api/conversations/${enc(state.selected)}/binding`, values);
    toast("已绑定");
  } catch (err) {
    toast(explain(err), "error");
  }
  await loadConversation(false);
}

async function createTicket() {
  const b = (state.info && state.info.binding) || {};
  const values = await dialog({
    title: "代业主建单",
    fields: [
      { name: "kind", label: "类型", type: "select", value: "repair", options: [["repair", "报修"], ["complaint", "投诉"]] },
      { name: "description", label: "问题描述", type: "textarea" },
      { name: "building", label: "楼栋", value: b.building || "" },
      { name: "unit", label: "单元", value: b.unit || "" },
      { name: "room", label: "房号", value: b.room || "" },
    ],
    ok: "建单",
  });
  if (!values || !values.description.trim()) return;
  try {
    const body = { kind: values.kind, description: values.description.trim(), contact: state.selected };
    for (const k of ["building", "unit", "room"]) if (values[k].trim()) body[k] = values[k].trim();
    if (b.community) body.community = b.community;
    else if (state.info.community) body.community = state.info.community;
    const ticket = await api.post("/api/tickets", body);
    toast(`已建单 ${ticket.id}`);
  } catch (err) {
    toast(explain(err), "error");
  }
  await loadConversation(false);
}

async function refreshNow() {
  await loadList();
  if (state.selected) await loadConversation(false);
}
