// A tiny DOM helper. Owner text is data, never markup: every string becomes a text node
// (textContent), and nothing here ever assigns innerHTML.

/**
 * h("div", {class: "x", testid: "row", dataset: {sender}, onclick}, child, "text", [more])
 * Attributes: class, testid (→ data-testid), dataset, on<event> handlers, boolean props
 * (disabled, checked, selected, hidden), value; anything else goes through setAttribute.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = Array.isArray(value) ? value.filter(Boolean).join(" ") : value;
    else if (key === "testid") el.dataset.testid = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "value") el.value = value;
    else if (["disabled", "checked", "selected", "hidden", "required", "multiple", "autofocus"].includes(key))
      el[key] = Boolean(value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

/** Replace an element's children (strings become text nodes). */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

const pad = (n) => String(n).padStart(2, "0");

/** "11-30 14:05" (this year) or "2025-11-30 14:05"; "—" for nothing. */
export function fmtTime(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "—";
  const now = new Date();
  const day = `${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return d.getFullYear() === now.getFullYear() ? `${day} ${time}` : `${d.getFullYear()}-${day} ${time}`;
}

/** Seconds as staff read them: "45秒", "12分", "3时05分", "2天4时". */
export function fmtDuration(seconds) {
  const s = Math.max(0, Math.floor(Math.abs(seconds)));
  if (s < 60) return `${s}秒`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}分${pad(s % 60)}秒`;
  const hrs = Math.floor(m / 60);
  if (hrs < 24) return `${hrs}时${pad(m % 60)}分`;
  return `${Math.floor(hrs / 24)}天${hrs % 24}时`;
}

/** YYYY-MM-DD of a local date. */
export function isoDate(d) {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** A short-lived message at the bottom of the screen (errors, "已发送"). */
export function toast(message, kind = "info") {
  let box = document.getElementById("toasts");
  if (!box) {
    box = h("div", { id: "toasts", role: "status", "aria-live": "polite" });
    document.body.appendChild(box);
  }
  const item = h("div", { class: `toast toast-${kind}`, testid: "toast" }, message);
  box.appendChild(item);
  setTimeout(() => item.remove(), kind === "error" ? 6000 : 3000);
}

/**
 * An in-page dialog (native confirm/prompt are blocked by some browsers and dismissed by test
 * drivers). Resolves to the form's values on OK, or null on cancel.
 * fields: [{name, label, type, value, placeholder, minlength}]
 */
export function dialog({ title, message, fields = [], ok = "确定", danger = false }) {
  return new Promise((resolve) => {
    const inputs = fields.map((f) =>
      h(f.type === "textarea" ? "textarea" : f.type === "select" ? "select" : "input", {
        name: f.name,
        type: f.type || "text",
        value: f.value || "",
        placeholder: f.placeholder || "",
        minlength: f.minlength,
        testid: `dialog-${f.name}`,
        autocomplete: f.type === "password" ? "new-password" : "off",
        rows: f.type === "textarea" ? 4 : undefined,
      }, f.type === "select" ? (f.options || []).map(([v, t]) => h("option", { value: v, selected: v === f.value }, t)) : null),
    );
    inputs.forEach((input, i) => {
      if (fields[i].type === "textarea") {
        input.removeAttribute("type");
        input.value = fields[i].value || "";
      }
    });
    const close = (result) => {
      backdrop.remove();
      document.removeEventListener("keydown", onKey);
      resolve(result);
    };
    const submit = (ev) => {
      ev.preventDefault();
      close(Object.fromEntries(inputs.map((i) => [i.name, i.value])));
    };
    const onKey = (ev) => {
      if (ev.key === "Escape") close(null);
    };
    const form = h(
      "form",
      { class: "dialog", role: "dialog", "aria-modal": "true", onsubmit: submit, testid: "dialog" },
      h("h3", {}, title),
      message ? h("p", { class: "muted" }, message) : null,
      fields.map((f, i) => h("label", { class: "field" }, h("span", {}, f.label), inputs[i])),
      h(
        "div",
        { class: "dialog-actions" },
        h("button", { type: "button", class: "btn", onclick: () => close(null), testid: "dialog-cancel" }, "取消"),
        h("button", { type: "submit", class: danger ? "btn btn-danger" : "btn btn-primary", testid: "confirm-ok" }, ok),
      ),
    );
    const backdrop = h("div", { class: "backdrop", onclick: (ev) => ev.target === backdrop && close(null) }, form);
    document.body.appendChild(backdrop);
    document.addEventListener("keydown", onKey);
    (inputs[0] || form.querySelector("[type=submit]")).focus();
  });
}

/** Debounce a function (search boxes). */
export function debounce(fn, ms) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}
