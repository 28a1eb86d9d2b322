// History search (GET /incidents with state, q, from, to, unit and paging), shared by the
// console's History panel and the auditor's page.
import { api } from "./api.js";
import { clock, el, LIMITS } from "./format.js";

/** Fill an empty form with the search's fields (state, words, unit, from, to) and buttons. */
export function buildHistoryForm(form) {
  const label = (text, control) => el("label", {}, `${text} `, control);
  const input = (name, extra) => el("input", { name, ...extra });
  form.replaceChildren(
    label("State", el("select", { name: "state" },
      el("option", { value: "all" }, "all"), el("option", { value: "open" }, "open"),
      el("option", { value: "closed" }, "closed or cancelled"))),
    label("Words", input("q", { dataset: { limit: "search" }, maxlength: LIMITS.search, placeholder: "nature, address, disposition" })),
    label("Unit", input("unit", { dataset: { limit: "unit_ref" }, maxlength: LIMITS.unit_ref, placeholder: "call sign" })),
    label("From", input("from", { type: "datetime-local", step: "1" })),
    label("To", input("to", { type: "datetime-local", step: "1" })),
    el("div", { class: "row buttons" }, el("button", { type: "submit" }, "Search"),
      el("button", { type: "button", id: "history-next", hidden: true }, "Next page")));
}

/** The search's query string from a form holding h-state, h-q, h-from, h-to and h-unit
 * (the datetime-local fields are read as the browser's local time, sent with their offset). */
export function historyQuery(form, offset = 0, limit = 20) {
  const get = (name) => form.querySelector(`[name="${name}"]`).value.trim();
  const params = new URLSearchParams({ state: get("state") || "all", offset: String(offset), limit: String(limit) });
  for (const name of ["q", "unit"]) if (get(name)) params.set(name, get(name));
  for (const name of ["from", "to"]) if (get(name)) params.set(name, new Date(get(name)).toISOString());
  return params;
}

/** Run the search; resolves to the page of rows (a full page may have a next one). */
export function searchHistory(form, offset = 0, limit = 20) {
  return api("GET", `/incidents?${historyQuery(form, offset, limit)}`);
}

/** Result rows: priority, nature, address, status, call time, units; `open(id)` on click. */
export function historyItems(rows, open) {
  if (!rows.length) return [el("li", { class: "hint" }, "Nothing found.")];
  return rows.map((r) => el("li", { class: `history-row status-${r.status}`, dataset: { incident: r.id, status: r.status } },
    el("button", { type: "button", class: "link", onclick: () => open(r.id) },
      `${r.priority} ${r.nature}`),
    ` · ${r.address || ""} · ${r.status.toUpperCase()} · ${clock(r.call_received_at)}`,
    r.call_signs && r.call_signs.length ? ` · ${r.call_signs.join(", ")}` : ""));
}
