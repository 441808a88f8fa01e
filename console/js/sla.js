// The SLA countdown shown for each ticket: time left to respond (派单) or to resolve, red once
// breached, frozen with "已暂停" while the ticket is on hold. The server's seconds_left is
// counted down from when it was fetched, so a wrong clock on the PC does not matter.

import { h } from "./dom.js";
import { OPEN_STATUSES } from "./labels.js";

const DEADLINE = { respond: "响应", resolve: "完成" };

/** {deadline, dueMs, paused} from the API's sla, or worked out from the ticket when absent. */
function reading(ticket) {
  const sla = ticket.sla;
  if (sla) {
    const left = typeof sla.seconds_left === "number" ? sla.seconds_left : sla.due_at ? (Date.parse(sla.due_at) - Date.now()) / 1000 : null;
    return { deadline: sla.deadline, dueMs: left === null ? null : Date.now() + left * 1000, paused: Boolean(sla.paused), left, breached: Boolean(sla.breached) };
  }
  if (!OPEN_STATUSES.includes(ticket.status)) return { deadline: null };
  const respond = !ticket.responded_at && ticket.status === "new";
  const due = respond ? ticket.respond_by : ticket.resolve_by;
  const dueMs = due ? Date.parse(due) : null;
  return { deadline: respond ? "respond" : "resolve", dueMs, paused: ticket.status === "on_hold", left: dueMs ? (dueMs - Date.now()) / 1000 : null };
}

const pad = (n) => String(n).padStart(2, "0");

/** A countdown that visibly ticks: "02:05:09", "1天 03:12:45". */
function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const d = Math.floor(s / 86400);
  const hms = `${pad(Math.floor((s % 86400) / 3600))}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
  return d ? `${d}天 ${hms}` : hms;
}

function paint(el) {
  const deadline = el.dataset.deadline;
  const paused = el.dataset.paused === "1";
  const left = paused ? Number(el.dataset.left) : (Number(el.dataset.due) - Date.now()) / 1000;
  const breached = left < 0 || el.dataset.breached === "1";
  el.classList.toggle("breached", breached);
  el.classList.toggle("paused", paused);
  el.classList.toggle("soon", !breached && !paused && left < 3600);
  const what = DEADLINE[deadline] || "";
  if (paused) el.textContent = left < 0 ? `已暂停 · ${what}已超时 ${clock(-left)}` : `已暂停 · ${what}剩 ${clock(left)}`;
  else if (left < 0) el.textContent = `${what}超时 ${clock(-left)}`;
  else el.textContent = `${what}剩 ${clock(left)}`;
}

/** span.sla for one ticket (text countdown; classes breached / paused / soon). */
export function slaCell(ticket) {
  const r = reading(ticket);
  if (!r.deadline || r.dueMs === null || r.dueMs === undefined) return h("span", { class: "sla done" }, "—");
  const el = h("span", {
    class: "sla",
    dataset: { deadline: r.deadline, due: String(r.dueMs), paused: r.paused ? "1" : "0", left: String(r.left), breached: r.breached && r.left <= 0 ? "1" : "0" },
  });
  paint(el);
  return el;
}

/** Tick every countdown under root each second; returns the stop function. */
export function startSlaClock(root) {
  const id = setInterval(() => {
    for (const el of root.querySelectorAll(".sla[data-due]")) paint(el);
  }, 1000);
  return () => clearInterval(id);
}
