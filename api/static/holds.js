// The calls the dispatch policy holds, as the console last heard (a report's live message, a
// recommendation it asked for, asked again after each unit message): marked in the queue with
// the time left, dropped when the hold is lifted (a unit freed; the hold's time up; a unit sent;
// the call ended).
import { el } from "./format.js";

/** Time left until `until` as m:ss (0:00 once past). */
export function timeLeft(until, now = Date.now()) {
  const s = Math.max(0, Math.ceil((Date.parse(until) - now) / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

export class Holds {
  constructor() {
    this.byIncident = new Map(); // incident id -> hold (the REST answer's HoldPublic shape)
  }

  /** Note what the policy says of a call now (a hold, or null: dispatch); true on a change. */
  put(id, hold) {
    const before = this.byIncident.get(id);
    if (hold) this.byIncident.set(id, hold); else this.byIncident.delete(id);
    return (before?.until ?? null) !== (hold?.until ?? null) || Boolean(before) !== Boolean(hold);
  }

  get(id) {
    return this.byIncident.get(id) || null;
  }

  get size() {
    return this.byIncident.size;
  }

  ids() {
    return [...this.byIncident.keys()];
  }

  /** Forget the holds of calls that are gone, have a unit (sent: the hold was overridden) or
   * whose time is up; true when one went. */
  lift(incidents, unitsOf, now = Date.now()) {
    let lifted = false;
    for (const [id, hold] of this.byIncident) {
      const over = !incidents.has(id) || unitsOf(id).length > 0 || (hold.until && Date.parse(hold.until) <= now);
      if (over) { this.byIncident.delete(id); lifted = true; }
    }
    return lifted;
  }
}

/** The queue row's mark of a held call: HOLD with the time left (kept current by the clock). */
export function holdTag(hold, now = Date.now()) {
  return el("span", {
    class: "hold-flag", title: hold.reason, dataset: { holdUntil: hold.until || "" },
  }, hold.until ? `HOLD ${timeLeft(hold.until, now)}` : "HOLD");
}

/** Bring every queue mark's time left up to `now`. */
export function tickHoldTags(root, now = Date.now()) {
  for (const node of root.querySelectorAll(".hold-flag[data-hold-until]")) {
    if (node.dataset.holdUntil) node.textContent = `HOLD ${timeLeft(node.dataset.holdUntil, now)}`;
  }
}
