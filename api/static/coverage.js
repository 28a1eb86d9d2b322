// The coverage view: the share of each zone an available ambulance reaches within the target
// now, and the move-ups the server's policy suggests (a redeploying policy's own plan, else
// the greedy most-cover ones), each with why; `u` accepts the first one.
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
    const by = picture.move_ups_by === "redeploy-plan" ? "its redeploy plan" : "greedy, most cover";
    nodes.summary.textContent = `${percent(picture.covered)} within ${picture.target_min} min · ${picture.policy} (move-ups: ${by})`;
    nodes.moveUps.dataset.by = picture.move_ups_by;
    const zones = [...picture.zones].sort((a, b) => a.covered - b.covered || a.name.localeCompare(b.name));
    nodes.zones.replaceChildren(...zones.map((z) =>
      el("li", { class: z.covered === 0 ? "zone zone-uncovered" : "zone", dataset: { zone: z.name, covered: String(z.covered) } },
        el("b", {}, z.name), ` ${percent(z.covered)}`,
        el("span", { class: "hint" }, z.units.length ? ` · ${z.units.join(", ")}` : " · no unit in time"))));
    nodes.moveUps.replaceChildren(...picture.move_ups.map((m, i) =>
      el("li", { class: "move-up", dataset: { unit: m.call_sign, station: m.to_station, post: m.post === null ? "" : String(m.post) } },
        i === 0 ? el("kbd", {}, "u") : "", ` ${m.call_sign}: ${m.from_station} → ${m.to_station}`,
        el("span", { class: "hint" }, ` ${m.gain < 0 ? "−" : "+"}${percent(Math.abs(m.gain))}${m.covers.length ? ` (${m.covers.join(", ")})` : ""}`),
        el("div", { class: "why hint" }, m.reason))));
    if (!picture.move_ups.length) {
      const none = picture.move_ups_by === "redeploy-plan" ? "Every free ambulance holds its post in the plan." : "No move-up adds cover.";
      nodes.moveUps.append(el("li", { class: "hint" }, none));
    }
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
