// Labels, orderings and number formats shared by the console and the crew screen.

/** Unit statuses: full label, short code shown on map markers, and a symbol (never colour alone). */
export const STATUS = {
  available: { label: "Available", code: "AVL", symbol: "✓" },
  dispatched: { label: "Dispatched", code: "DSP", symbol: "!" },
  en_route: { label: "En route", code: "ENR", symbol: "→" },
  on_scene: { label: "On scene", code: "ONS", symbol: "●" },
  transporting: { label: "Transporting", code: "TRN", symbol: "+" },
  at_hospital: { label: "At hospital", code: "HSP", symbol: "H" },
  out_of_service: { label: "Out of service", code: "OOS", symbol: "×" },
};

/** Unit kinds: label and the short tag drawn in the marker's shape. */
export const KIND = {
  als: { label: "ALS ambulance", tag: "ALS" },
  bls: { label: "BLS ambulance", tag: "BLS" },
  crisis: { label: "Crisis team", tag: "CRS" },
  responder: { label: "Rapid responder", tag: "RR" },
  supervisor: { label: "EMS supervisor", tag: "SUP" },
};

/** Priorities from most to least urgent, with a word each. */
export const PRIORITY = {
  E: { rank: 5, label: "E · life-threatening" },
  D: { rank: 4, label: "D · critical" },
  C: { rank: 3, label: "C · serious" },
  B: { rank: 2, label: "B · urgent" },
  A: { rank: 1, label: "A · non-urgent" },
  "Ω": { rank: 0, label: "Ω · referral" },
};

/** The status changes a unit may report itself, and the statuses from which a dispatcher may
 * release a unit: the server's rules (domain/dispatch/unit.py), filled from each socket's hello. */
export const NEXT_STATUSES = {};
export const RELEASABLE = new Set();
/** Text limits of the server's commands (domain/values.py), by field. */
export const LIMITS = {};

/** Take the rules the server sent (api/live/rules.py) in place of any held before. */
export function applyRules(rules) {
  for (const key of Object.keys(NEXT_STATUSES)) delete NEXT_STATUSES[key];
  Object.assign(NEXT_STATUSES, rules.unit_transitions || {});
  RELEASABLE.clear();
  for (const status of rules.releasable || []) RELEASABLE.add(status);
  Object.assign(LIMITS, rules.limits || {});
  // Inputs say which limit is theirs (data-limit="note"): the browser stops typing past it.
  for (const input of document.querySelectorAll("[data-limit]")) {
    const limit = LIMITS[input.dataset.limit];
    if (limit) input.maxLength = limit;
  }
}

export const statusLabel = (s) => (STATUS[s] || { label: s }).label;
export const statusCode = (s) => (STATUS[s] || { code: s }).code;
export const kindLabel = (k) => (KIND[k] || { label: k }).label;
export const kindTag = (k) => (KIND[k] || { tag: k }).tag;
export const priorityRank = (p) => (PRIORITY[p] || { rank: -1 }).rank;
export const priorityLabel = (p) => (PRIORITY[p] || { label: p }).label;
/** A CSS-safe class suffix for a priority (Ω is "omega"). */
export const priorityClass = (p) => (p === "Ω" ? "omega" : String(p).toLowerCase());

/** Metres as "850 m" or "3.2 km". */
export function distance(m) {
  if (m == null) return "—";
  return m < 1000 ? `${Math.round(m)} m` : `${(m / 1000).toFixed(1)} km`;
}

/** Seconds as "45 s", "4 min" or "1 h 05". */
export function duration(s) {
  if (s == null) return "—";
  if (s < 60) return `${Math.round(s)} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  const h = Math.floor(s / 3600);
  return `${h} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}`;
}

/** Time of day hh:mm:ss (local) of an ISO time. */
export function clock(iso) {
  return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
}

/** Age of an ISO time, now, as mm:ss or h:mm:ss. */
export function age(iso, now = Date.now()) {
  const s = Math.max(0, Math.floor((now - Date.parse(iso)) / 1000));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const mm = String(m).padStart(2, "0"), ss = String(r).padStart(2, "0");
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** An element with attributes and children (text is always set as text, never as HTML). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value == null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** The items of a notes list: time, author and text of each note. */
export function noteItems(notes) {
  return notes.length
    ? notes.map((n) => el("li", {}, el("span", { class: "hint" }, `${clock(n.at)} ${n.actor}: `), n.text))
    : [el("li", { class: "hint" }, "No notes.")];
}

/** The items of a teleconsults list: specialty, state, specialist, the question, and the
 * recommendation or why it was declined or cancelled. */
export function consultItems(consults) {
  return consults.length
    ? consults.map((c) => el("li", { class: `consult consult-${c.status}`, dataset: { consult: c.id, status: c.status } },
      el("div", {}, el("b", {}, words(c.specialty)), " · ", el("span", { class: "consult-status" }, words(c.status).toUpperCase()),
        c.specialist ? ` · ${c.specialist}` : " · no specialist yet"),
      el("div", { class: "hint" }, `asked ${clock(c.requested_at)} by ${c.requested_by}: ${c.reason}`),
      c.recommendation ? el("div", { class: "consult-rec" }, "Recommendation: ", c.recommendation) : null,
      c.closing_reason ? el("div", { class: "hint" }, `${words(c.status)} by ${c.closed_by}: ${c.closing_reason}`) : null))
    : [el("li", { class: "hint" }, "No teleconsult.")];
}

/** A function that runs `fn` once, `ms` after the last of a burst of calls (or at once). */
export function debounced(fn, ms) {
  let timer = null;
  return (now = false) => {
    clearTimeout(timer);
    timer = setTimeout(fn, now ? 0 : ms);
  };
}

/** An enum value as words: "in_progress" -> "in progress". */
export const words = (value) => String(value ?? "").replaceAll("_", " ");

/** A hospital's emergency department status as text (never colour alone): "ED normal",
 * "ED advisory: corridor care", "ED closed: CT scanner down". */
export function edStatusText(status) {
  if (!status) return "ED status unknown";
  const reason = status.reason ? `: ${status.reason}` : "";
  return `ED ${status.ed_status}${status.ed_status === "normal" ? "" : reason}`;
}

/** The beds a hospital reports, as "icu 2 · general 10" (empty when none reported). */
export function bedsText(beds) {
  return Object.entries(beds || {}).map(([type, count]) => `${words(type)} ${count}`).join(" · ");
}
