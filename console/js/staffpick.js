// Who can be named as the one accountable person: a list from /api/staff for roles that may
// read it, otherwise the username typed in (the server checks it exists and is active).

import { api, may } from "./api.js";
import { h } from "./dom.js";
import { ROLE } from "./labels.js";

let cached = null;

export async function staffList() {
  if (!may("staff")) return null;
  if (!cached) {
    try {
      cached = (await api.get("/api/staff")).filter((m) => m.active);
    } catch (_err) {
      cached = null;
    }
  }
  return cached;
}

/** A select of active colleagues (technicians first), or a text input when the list is not ours to read. */
export function staffPicker({ testid, members, value = "", placeholder = "用户名", allowEmpty = false, emptyText = "全部" }) {
  if (!members) return h("input", { testid, value, placeholder, autocomplete: "off", spellcheck: "false", class: "picker" });
  const order = { technician: 0, agent: 1, supervisor: 2, admin: 3 };
  const sorted = [...members].sort((a, b) => (order[a.role] ?? 9) - (order[b.role] ?? 9) || a.username.localeCompare(b.username));
  return h(
    "select",
    { testid, class: "picker" },
    allowEmpty ? h("option", { value: "" }, emptyText) : h("option", { value: "", disabled: true, selected: !value }, "选择负责人…"),
    sorted.map((m) => h("option", { value: m.username, selected: m.username === value }, `${m.name || m.username}（${ROLE[m.role] || m.role}）`)),
  );
}
