// 发送失败: notifications the dispatcher gave up on after its retries (an owner's channel down,
// a WeCom account unlinked). A supervisor sees why and sends them again.

import { api, explain } from "./api.js";
import { h, fill, fmtTime, toast, $ } from "./dom.js";
import { CHANNEL, OUT_KIND } from "./labels.js";

let root = null;

export async function mount(el) {
  root = el;
  fill(
    root,
    h(
      "div",
      { class: "page" },
      h("div", { class: "page-head" }, h("h1", {}, "发送失败的通知"), h("span", { class: "muted", id: "dead-count" })),
      h("p", { class: "muted" }, "多次重试仍未送达的通知。查明原因（如业主渠道失效、员工未绑定企业微信）后可重新发送。"),
      h(
        "div",
        { class: "panel table-wrap" },
        h(
          "table",
          {},
          h("thead", {}, h("tr", {}, ["时间", "收件人", "渠道", "类型", "内容", "尝试", "最后错误", ""].map((t) => h("th", {}, t)))),
          h("tbody", { id: "dead-rows" }),
        ),
      ),
    ),
  );
  await load();
}

export function unmount() {
  root = null;
}

async function load() {
  try {
    const rows = await api.get("/api/notifications/dead");
    if (!root) return;
    $("#dead-count").textContent = `${rows.length} 条`;
    if (!rows.length) {
      fill($("#dead-rows"), h("tr", {}, h("td", { colspan: 8, class: "empty" }, "没有发送失败的通知")));
      return;
    }
    fill(
      $("#dead-rows"),
      rows.map((n) =>
        h(
          "tr",
          { testid: "dead-row", dataset: { id: String(n.id) } },
          h("td", { "data-label": "时间", class: "muted" }, fmtTime(n.created_at)),
          h("td", { "data-label": "收件人" }, recipient(n.recipient)),
          h("td", { "data-label": "渠道" }, CHANNEL[n.channel] || n.channel || "—"),
          h("td", { "data-label": "类型" }, OUT_KIND[n.kind] || n.kind),
          h("td", { "data-label": "内容", class: "desc", title: n.text }, n.text),
          h("td", { "data-label": "尝试", class: "num" }, String(n.attempts)),
          h("td", { "data-label": "错误", class: "desc muted small", title: n.last_error || "" }, n.last_error || "—"),
          h("td", {}, h("button", { type: "button", class: "btn btn-small btn-primary", testid: "dead-retry", onclick: (ev) => retry(n, ev.target) }, "重新发送")),
        ),
      ),
    );
  } catch (err) {
    if (root) fill($("#dead-rows"), h("tr", {}, h("td", { colspan: 8, class: "empty" }, explain(err))));
  }
}

/** An owner's chat id is shown by channel and its last characters; staff by their username. */
function recipient(r) {
  const [prefix, rest = ""] = String(r || "").split(":", 2);
  if (prefix === "staff") return `员工 ${rest}`;
  if (prefix === "duty") return `值班群 ${rest}`;
  if (!rest) return r;
  return `${CHANNEL[prefix] || prefix}用户 ·${rest.slice(-4)}`;
}

async function retry(n, button) {
  button.disabled = true;
  try {
    await api.post(`/api/notifications/${n.id}/retry`);
    toast("已重新排队发送");
  } catch (err) {
    toast(explain(err), "error");
  }
  await load();
}
