// The app shell: who is signed in, the menu their role may use, hash routing to one module per
// screen, and the live alert (badge, "(N) …" title, a beep) for owners waiting for a person.

import { loadMe, may, logout, api, explain } from "./api.js";
import { h, fill, $, $$, dialog, toast } from "./dom.js";
import { onChange, onStatus, beep, unlockAudio } from "./live.js";
import { ROLE } from "./labels.js";

const TITLE = "物业助手 · 工作台";
const view = $("#view");
let current = null; // {name, module, cleanup}
let waiting = null;
let routeSeq = 0; // the latest navigation wins over a slower one still loading

// Which screens a member may open: the API's permissions decide (a technician works their own
// tickets, not the pool).
const SCREENS = {
  conversations: { load: () => import("./conversations.js"), allowed: () => may("conversations") },
  tickets: { load: () => import("./tickets.js"), allowed: () => may("tickets.read") && !isTechnician() },
  ticket: { load: () => import("./ticket_detail.js"), allowed: () => may("tickets.read") },
  mytickets: { load: () => import("./mytickets.js"), allowed: () => may("tickets.work") },
  dashboard: { load: () => import("./dashboard.js"), allowed: () => may("stats") },
  dead: { load: () => import("./dead.js"), allowed: () => may("notifications") },
  staff: { load: () => import("./staff.js"), allowed: () => may("staff") },
};

let me = null;
const isTechnician = () => me && me.role === "technician";

function navAllowed(perm) {
  if (perm === "tickets.pool") return SCREENS.tickets.allowed();
  if (perm === "tickets.mine") return isTechnician();
  return may(perm);
}

function homeRoute() {
  if (isTechnician()) return "#/mytickets";
  if (may("conversations")) return "#/conversations";
  if (may("stats")) return "#/dashboard";
  return "#/tickets";
}

/** "#/tickets/BX000012" → {name: "ticket", arg: "BX000012"} */
function parse(hash) {
  const parts = hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  const [first, ...rest] = parts;
  if (first === "tickets" && rest[0]) return { name: "ticket", arg: rest.join("/") };
  if (first === "conversations" && rest[0]) return { name: "conversations", arg: rest.join("/") };
  return { name: first || "", arg: null };
}

async function route() {
  const { name, arg } = parse(location.hash);
  const screen = SCREENS[name];
  if (!screen || !screen.allowed()) {
    if (!name || !screen) {
      location.replace(homeRoute());
      return;
    }
    fill(view, h("div", { class: "empty" }, h("h2", {}, "没有权限"), h("p", {}, "您的角色不能打开这个页面。")));
    return;
  }
  const navName = name === "ticket" ? (isTechnician() ? "mytickets" : "tickets") : name;
  for (const a of $$("#nav a")) a.classList.toggle("active", a.dataset.route === navName);
  document.body.classList.remove("menu-open");
  // The same screen with a new argument (another conversation) keeps its state.
  if (current && current.name === name && current.module.update) {
    current.module.update(arg);
    return;
  }
  if (current && current.module.unmount) current.module.unmount();
  current = null;
  fill(view, h("p", { class: "loading" }, "正在加载…"));
  const seq = ++routeSeq;
  try {
    const module = await screen.load();
    if (seq !== routeSeq) return;
    current = { name, module };
    view.replaceChildren();
    await module.mount(view, arg, { me });
    if (waiting !== null) window.dispatchEvent(new CustomEvent("wuye:badge", { detail: waiting }));
  } catch (err) {
    if (seq !== routeSeq) return;
    console.warn(err);
    fill(view, h("div", { class: "empty" }, h("h2", {}, "页面加载失败"), h("p", {}, explain(err))));
  }
}

function setWaiting(n) {
  if (typeof n !== "number") return;
  const before = waiting;
  waiting = n;
  const badge = $("[data-testid=waiting-badge]");
  badge.textContent = String(n);
  badge.hidden = n <= 0;
  document.title = n > 0 ? `(${n}) ${TITLE}` : TITLE;
  window.dispatchEvent(new CustomEvent("wuye:badge", { detail: n }));
  if (before !== null && n > before) beep();
}

async function changePassword() {
  const values = await dialog({
    title: "修改密码",
    message: "新密码至少 10 个字符。修改后其他设备上的登录将失效。",
    fields: [
      { name: "old", label: "当前密码", type: "password" },
      { name: "new", label: "新密码", type: "password", minlength: 10 },
    ],
    ok: "修改",
  });
  if (!values) return;
  if (values.new.length < 10) return toast("新密码至少 10 个字符", "error");
  try {
    await api.post("/console/api/password", { old: values.old, new: values.new });
    toast("密码已修改");
  } catch (err) {
    toast(explain(err), "error");
  }
}

async function start() {
  me = await loadMe();
  fill($("#me"), h("span", { class: "me-name" }, me.name || me.username), h("span", { class: "me-role" }, ROLE[me.role] || me.role));
  $("#me").title = "修改密码";
  $("#me").addEventListener("click", changePassword);
  $("#logout").addEventListener("click", logout);
  for (const a of $$("#nav a")) a.hidden = !navAllowed(a.dataset.perm);
  $("#menu-toggle").addEventListener("click", () => {
    const open = document.body.classList.toggle("menu-open");
    $("#menu-toggle").setAttribute("aria-expanded", String(open));
  });
  onStatus((online) => $("#live-dot").classList.toggle("online", online));
  onChange((data) => {
    setWaiting(data.waiting);
    if (current && current.module.refresh) current.module.refresh(data);
  });
  if (may("conversations")) {
    api
      .get("/api/conversations", { tab: "waiting" })
      .then((rows) => waiting === null && setWaiting(rows.length))
      .catch(() => {});
  }
  // Browsers only let audio start after the user has touched the page once.
  document.addEventListener("pointerdown", unlockAudio, { once: true });
  window.addEventListener("hashchange", route);
  await route();
}

/** Screens tell the shell the waiting count they fetched themselves (keeps the badge honest). */
window.addEventListener("wuye:waiting", (ev) => setWaiting(ev.detail));

start().catch((err) => {
  if (err && err.status === 401) return; // on the way to the login page
  console.error(err);
  fill(view, h("div", { class: "empty" }, h("h2", {}, "无法连接服务器"), h("p", {}, explain(err))));
});
