// 员工账号 (admin): add colleagues, give them an invite link (they set their own password) or a
// first password, and deactivate those who left (their sessions end at once).

import { api, explain, currentMe } from "./api.js";
import { h, fill, toast, dialog, $ } from "./dom.js";
import { ROLE } from "./labels.js";

let root = null;

export async function mount(el) {
  root = el;
  const role = h("select", { name: "role", testid: "staff-role" }, Object.entries(ROLE).map(([k, v]) => h("option", { value: k, selected: k === "agent" }, v)));
  const form = h(
    "form",
    { class: "panel staff-add", testid: "staff-add", onsubmit: add, autocomplete: "off" },
    h("h3", {}, "添加员工"),
    h("label", { class: "field" }, h("span", {}, "用户名"), h("input", { name: "username", testid: "staff-username", required: true, maxlength: 64, pattern: "[A-Za-z0-9._\\-]+", placeholder: "字母、数字、. _ -" })),
    h("label", { class: "field" }, h("span", {}, "姓名"), h("input", { name: "name", testid: "staff-name", required: true, maxlength: 64 })),
    h("label", { class: "field" }, h("span", {}, "角色"), role),
    h("label", { class: "field" }, h("span", {}, "负责小区"), h("input", { name: "communities", testid: "staff-communities", placeholder: "小区代码，逗号分隔；留空为全公司" })),
    h("button", { type: "submit", class: "btn btn-primary", testid: "staff-add-submit" }, "添加"),
  );
  fill(
    root,
    h(
      "div",
      { class: "page" },
      h("div", { class: "page-head" }, h("h1", {}, "员工账号")),
      h("div", { class: "staff-grid" }, h("div", { class: "panel table-wrap" }, h("table", {}, h("thead", {}, h("tr", {}, ["用户名", "姓名", "角色", "负责小区", "状态", "操作"].map((t) => h("th", {}, t)))), h("tbody", { id: "staff-rows" }))), form),
      h("div", { id: "invite-box" }),
    ),
  );
  await load();
}

export function unmount() {
  root = null;
}

async function load() {
  try {
    const rows = await api.get("/api/staff");
    if (!root) return;
    const me = currentMe();
    fill(
      $("#staff-rows"),
      rows.map((m) =>
        h(
          "tr",
          { testid: "staff-row", dataset: { username: m.username }, class: m.active ? "" : "inactive" },
          h("td", { "data-label": "用户名" }, m.username),
          h("td", { "data-label": "姓名" }, m.name),
          h("td", { "data-label": "角色" }, ROLE[m.role] || m.role),
          h("td", { "data-label": "小区" }, m.communities && m.communities.length ? m.communities.join("、") : "全公司"),
          h("td", { "data-label": "状态" }, m.active ? h("span", { class: "tag tag-mine" }, "在职") : h("span", { class: "tag" }, "已停用")),
          h(
            "td",
            {},
            h("div", { class: "row-actions" }, m.active
              ? [
                  h("button", { type: "button", class: "btn btn-small", testid: "staff-invite", onclick: () => invite(m) }, "邀请链接"),
                  h("button", { type: "button", class: "btn btn-small", testid: "staff-password", onclick: () => setPassword(m) }, "设置密码"),
                  m.username !== me.username ? h("button", { type: "button", class: "btn btn-small btn-danger", testid: "staff-deactivate", onclick: () => deactivate(m) }, "停用") : null,
                ]
              : null,
          ),
          ),
        ),
      ),
    );
  } catch (err) {
    if (root) fill($("#staff-rows"), h("tr", {}, h("td", { colspan: 6, class: "empty" }, explain(err))));
  }
}

async function add(ev) {
  ev.preventDefault();
  const f = ev.target;
  const body = {
    username: f.username.value.trim(),
    name: f.name.value.trim(),
    role: f.role.value,
    communities: f.communities.value.split(/[,，、\s]+/).filter(Boolean),
  };
  if (!body.username || !body.name) return toast("请填写用户名和姓名", "error");
  try {
    await api.post("/api/staff", body);
    toast(`已添加 ${body.name}，请发邀请链接让TA设置密码`);
    f.reset();
    await load();
    await invite(body);
  } catch (err) {
    toast(explain(err), "error");
  }
}

async function invite(m) {
  try {
    const answer = await api.post(`/api/staff/${encodeURIComponent(m.username)}/invite`);
    const link = new URL(answer.link, location.origin).href;
    const input = h("input", { readonly: true, value: link, testid: "invite-link", class: "wide", onfocus: (e) => e.target.select() });
    fill(
      $("#invite-box"),
      h(
        "div",
        { class: "panel invite", testid: "staff-invite-link" },
        h("h3", {}, `${m.name || m.username} 的邀请链接`),
        h("p", { class: "muted" }, `只显示这一次，${answer.expires_at ? `${new Date(answer.expires_at).toLocaleString("zh-CN")} 前` : "72 小时内"}有效。通过企业微信等内部渠道发给本人，打开后设置密码即可登录。`),
        h("div", { class: "action-row" }, input, h("button", { type: "button", class: "btn", onclick: () => copy(input) }, "复制")),
      ),
    );
    input.focus();
  } catch (err) {
    toast(explain(err), "error");
  }
}

async function copy(input) {
  input.select();
  try {
    await navigator.clipboard.writeText(input.value);
    toast("已复制");
  } catch (_err) {
    toast("请按 Ctrl+C 复制");
  }
}

async function setPassword(m) {
  const values = await dialog({
    title: `为 ${m.name || m.username} 设置密码`,
    message: "至少 10 个字符。设置后TA已登录的设备会退出。",
    fields: [{ name: "password", label: "新密码", type: "password", minlength: 10 }],
    ok: "设置",
  });
  if (!values) return;
  if (values.password.length < 10) return toast("密码至少 10 个字符", "error");
  try {
    await api.post(`/api/staff/${encodeURIComponent(m.username)}/password`, { password: values.password });
    toast("密码已设置");
  } catch (err) {
    toast(explain(err), "error");
  }
}

async function deactivate(m) {
  const ok = await dialog({ title: "停用账号", message: `停用 ${m.name}（${m.username}）？TA将立即退出登录，历史记录中的名字保留。`, ok: "停用", danger: true });
  if (!ok) return;
  try {
    await api.post(`/api/staff/${encodeURIComponent(m.username)}/deactivate`);
    toast(`已停用 ${m.username}`);
  } catch (err) {
    toast(explain(err), "error");
  }
  await load();
}
