// What the console shows of a recommendation: each requirement's state (filled, proposed,
// unavailable with a substitute) and the numbered units a number key may assign.
import { duration, el, kindTag } from "./format.js";

/** The units a number key may assign, in order: the proposed and alternative units of the
 * requirements not filled yet, then the substitutes of unavailable ones; never a unit the
 * feed already shows committed, never a unit for a filled requirement. */
export function numbered(rec, units) {
  const out = [];
  const seen = new Set();
  const free = (c) => (units.get(c.unit_id) || { status: "available" }).status === "available";
  const add = (c, req, role) => {
    if (seen.has(c.unit_id) || !free(c)) return;
    seen.add(c.unit_id);
    out.push({ ...c, label: req.label, state: req.state, role, proposed: role === "proposed" });
  };
  for (const req of rec.requirements) {
    if (req.state === "filled") continue;
    for (const c of req.proposed) add(c, req, "proposed");
  }
  for (const req of rec.requirements) {
    if (req.state === "filled") continue;
    for (const c of req.alternatives) add(c, req, "alternative");
  }
  for (const req of rec.requirements) {
    if (req.state === "unavailable" && req.substitute) add(req.substitute, req, "substitute");
  }
  return out.slice(0, 9);
}

/** One line per requirement: filled by which units, proposed, or unavailable (red). */
export function requirementItems(rec) {
  return rec.requirements.map((req) => {
    let text;
    if (req.state === "filled") text = `filled by ${req.filled_by.map((u) => u.call_sign).join(", ")}`;
    else if (req.state === "proposed") text = `proposed: ${req.proposed.map((c) => c.call_sign).join(", ")}`;
    else {
      const sub = req.substitute;
      text = `UNAVAILABLE${req.proposed.length ? ` (only ${req.proposed.map((c) => c.call_sign).join(", ")})` : ""}` +
        (sub ? ` · nearest substitute ${sub.call_sign} ${kindTag(sub.kind)} ETA ${duration(sub.eta_s)}` : " · no substitute free");
    }
    const signs = (list) => list.map((u) => u.call_sign).join(" ");
    return el("li", {
      class: `req req-${req.state}`,
      dataset: {
        label: req.label, state: req.state, filledBy: signs(req.filled_by), proposed: signs(req.proposed),
        substitute: req.substitute ? req.substitute.call_sign : "",
      },
    },
      el("b", {}, req.label), req.count > 1 ? ` ×${req.count}` : "", ": ", el("span", { class: "req-text" }, text));
  });
}

/** What a queue row needs: "pending" (no unit yet), "short" (a requirement no unit fills,
 * e.g. its unit was released or re-assigned), "cleared" (no unit left and one finished its
 * work there: close it), or "" (every requirement filled). `short` and `finished` come from
 * the server (the feed). */
export function attention(incident, units) {
  if (!units.length && incident.status === "pending") return "pending";
  if (!units.length && incident.finished) return "cleared";
  return (incident.short || []).length ? "short" : units.length ? "" : "cleared";
}
