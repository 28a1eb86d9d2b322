// The coverage view: the share of each zone an available ambulance reaches within the target
// now, and the move-ups the server's policy suggests; `u` accepts the first one.
import { api } from "./api.js";
import { debounced, el } from "./format.js";

const percent = (share) => `${Math.round(share * 100)} %`;

/** The view over its list nodes; `toast(message, kind)` reports what happened. */
export function coverageView(nodes, toast) {
  let picture = null;

  async function load() {
    try {
      picture = await api("GET", "/coverage");
    } catch (err) {
      picture = null;
      nodes.summary.textContent = "";
      nodes.zones.replaceChildren(el("li", { class: "hint" }, `Coverage unavailable: ${err.message}`));
      nodes.moveUps.replaceChildren();
      return;
    }
    render();
  }

  function render() {
    nodes.summary.textContent = `${percent(picture.covered)} within ${picture.target_min} min · ${picture.policy}`;
    const zones = [...picture.zones].sort((a, b) => a.covered - b.covered || a.name.localeCompare(b.name));
    nodes.zones.replaceChildren(...zones.map((z) =>
      el("li", { class: z.covered === 0 ? "zone zone-uncovered" : "zone", dataset: { zone: z.name, covered: String(z.covered) } },
        el("b", {}, z.name), ` ${percent(z.covered)}`,
        el("span", { class: "hint" }, z.units.length ? ` · ${z.units.join(", ")}` : " · no unit in time"))));
    nodes.moveUps.replaceChildren(...picture.move_ups.map((m, i) =>
      el("li", { class: "move-up", dataset: { unit: m.call_sign, station: m.to_station } },
        i === 0 ? el("kbd", {}, "u") : "", ` ${m.call_sign}: ${m.from_station} → ${m.to_station}`,
        el("span", { class: "hint" }, ` +${percent(m.gain)}${m.covers.length ? ` (${m.covers.join(", ")})` : ""}`))));
    if (!picture.move_ups.length) nodes.moveUps.append(el("li", { class: "hint" }, "No move-up adds cover."));
  }

  /** Accept the first suggested move-up: the unit is moved up, and its crew told. */
  async function accept() {
    const move = picture && picture.move_ups[0];
    if (!move) { toast("No move-up to accept"); return; }
    try {
      await api("POST", `/units/${move.unit_id}/relocate`, { station: move.to_station });
      toast(`${move.call_sign} moved up to ${move.to_station}`, "ok");
    } catch (err) {
      toast(`Move-up of ${move.call_sign}: ${err.message}`);
    }
    await load();
  }

  return { refresh: debounced(load, 300), accept };
}
