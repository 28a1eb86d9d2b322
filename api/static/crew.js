// The crew screen: one unit's assignment (address, nature, priority, notes, a map), large
// buttons for the status flow (only the steps the unit may take next are enabled), and the
// hospitals offered as destinations, best first, when the unit transports or on request; the
// teleconsults on its incident with the specialist's recommendation.
import { api, session } from "./api.js";
import {
  consultItems, distance, duration, edStatusText, el, kindLabel, NEXT_STATUSES, noteItems, priorityClass, priorityLabel, STATUS,
  statusLabel, words,
} from "./format.js";
import { CONNECTION_TEXT, startLive } from "./live.js";
import { createMap, drawBaseMap, incidentMarker, unitMarker } from "./mapview.js";
import { withNotes } from "./state.js";

const $ = (id) => document.getElementById(id);
// incidents: id -> [pos, incident]; consults: id -> [pos, consult]; destinations: the
// server's latest ranking for the unit
const crew = {
  unit: null, unitPos: -1, incidents: new Map(), consults: new Map(), busy: false, destinations: null, ranking: false,
};
let live = null;
let map = null;
let baseMap = null;
const markers = { unit: null, incident: null };

function start() {
  $("login-form").addEventListener("submit", (event) => {
    event.preventDefault();
    session.token = $("login-token").value.trim();
    signIn();
  });
  $("logout").addEventListener("click", () => { if (live) live.stop(); session.token = null; location.reload(); });
  for (const button of document.querySelectorAll(".sbtn")) button.addEventListener("click", () => press(button));
  $("dest-button").addEventListener("click", () => askDestinations());
  render();
  if (session.token) signIn(); else showLogin("");
}

function showLogin(message) {
  $("login").hidden = false;
  $("login-error").textContent = message;
  $("login-token").focus();
}

function signIn() {
  $("login").hidden = true;
  live = startLive("/ws/crew", () => session.token, {
    onMessage,
    onState: showConnection,
    onFatal: (reason) => { session.token = null; showLogin(reason); },
  });
  api("GET", "/map").then((data) => { baseMap = data; drawMap(); }).catch(() => { baseMap = null; });
}

function showConnection(state, detail) {
  const node = $("conn");
  node.dataset.state = state;
  node.textContent = CONNECTION_TEXT[state] || state;
  node.title = detail;
  const note = $("conn-note");
  note.hidden = state === "connected";
  note.textContent = state === "offline"
    ? "No network: report by radio. This screen catches up when the network returns."
    : state === "refused" ? detail : `Connection lost: reconnecting${detail ? ` (${detail})` : ""}. Buttons return with it.`;
  if (live && live.lastHello) $("whoami").textContent = `Signed in as ${live.lastHello.user}`;
  render();
}

// --- messages: the unit and its incident, each kept at the newest position seen -----------

function onMessage(message) {
  if (message.type === "snapshot") {
    crew.unit = message.unit;
    crew.unitPos = message.pos;
    crew.incidents.clear();
    if (message.incident) crew.incidents.set(message.incident.id, [message.pos, message.incident]);
    crew.consults.clear();
    for (const c of message.consults || []) crew.consults.set(c.id, [message.pos, c]);
    if (message.incident) loadConsults(message.incident.id);
    // A snapshot carries no ranking: a unit already transporting asks for one.
    if (crew.unit && crew.unit.status === "transporting" && !crew.destinations) askDestinations();
  } else if (message.type === "unit" && message.pos > crew.unitPos) {
    const before = crew.unit && crew.unit.status;
    crew.unit = message.unit;
    crew.unitPos = message.pos;
    if (message.destinations) crew.destinations = message.destinations;
    else if (before !== message.unit.status && message.unit.status !== "transporting") crew.destinations = null;
  } else if (message.type === "incident" && message.pos > (crew.incidents.get(message.incident.id) || [-1])[0]) {
    const [, held] = crew.incidents.get(message.incident.id) || [];
    crew.incidents.set(message.incident.id, [message.pos, withNotes(held, message)]);
  } else if (message.type === "consult" && message.pos > (crew.consults.get(message.consult.id) || [-1])[0]) {
    crew.consults.set(message.consult.id, [message.pos, message.consult]);
  } else if (message.type === "stale" && crew.unit) {
    const mine = message.units.find((u) => u.id === crew.unit.id);
    if (mine) crew.unit = { ...crew.unit, stale: mine.stale };
  } else {
    return;
  }
  render();
}

/** The incident the unit works now (an old message about a previous one is not shown). */
function job() {
  const { unit } = crew;
  const [, incident] = (unit && crew.incidents.get(unit.incident_id)) || [];
  return incident && incident.open ? incident : null;
}

// --- rendering ----------------------------------------------------------------------------

function render() {
  const { unit } = crew;
  const current = job();
  $("unit-name").textContent = unit ? unit.call_sign : "—";
  $("unit-kind").textContent = unit ? kindLabel(unit.kind) : "";
  $("status-now").replaceChildren(unit
    ? el("span", { class: `status-chip huge status-${unit.status}`, dataset: { status: unit.status } },
        `${STATUS[unit.status]?.symbol ?? ""} ${statusLabel(unit.status)}`)
    : "");
  $("status-now").append(unit && unit.stale ? el("span", { class: "stale-flag" }, " STALE: no report for a while") : "");
  $("no-assignment").hidden = Boolean(current);
  $("job").hidden = !current;
  if (current) {
    const badge = $("job-priority");
    badge.textContent = current.priority;
    badge.className = `prio-badge big prio-${priorityClass(current.priority)}`;
    $("job-priority-text").textContent = `Priority ${priorityLabel(current.priority)}`;
    $("job-nature").textContent = current.nature + (current.determinant ? ` (${current.determinant})` : "");
    $("job-address").textContent = current.address || `${current.lat.toFixed(5)}, ${current.lon.toFixed(5)}`;
    $("job-ack").textContent = unit.acknowledged ? "Acknowledged" : "Not acknowledged yet: press Acknowledge";
    $("job-notes").replaceChildren(...noteItems(current.notes));
    const consults = [...crew.consults.values()].map(([, c]) => c).filter((c) => c.incident_id === current.id)
      .sort((a, b) => Date.parse(a.requested_at) - Date.parse(b.requested_at));
    $("job-consults").replaceChildren(...consultItems(consults));
  }
  drawMap();
  renderButtons();
  renderDestinations();
}

/** The hospitals offered, in the server's order (closed ones are never in it), with ETA,
 * distance and the ED status in words; those left out are listed with the reason. */
function renderDestinations() {
  const ranking = crew.destinations;
  const connected = live && live.state === "connected";
  const button = $("dest-button");
  button.disabled = !(connected && crew.unit) || crew.ranking;
  button.textContent = crew.ranking ? "⟳ Ranking…" : "⟳ Destinations";
  $("destinations").dataset.shown = String(Boolean(ranking));
  $("destinations").classList.toggle("offered", Boolean(ranking));
  if (!ranking) {
    $("dest-meta").textContent = "Offered when you start transporting, or press Destinations.";
    $("dest-list").replaceChildren();
    $("dest-excluded-box").hidden = true;
    return;
  }
  const need = ranking.service ? `For ${words(ranking.service)}` : "For any emergency department";
  const from = { incident: " (from the incident)", query: " (as asked)" }[ranking.service_from] || "";
  $("dest-meta").textContent = `${need}${from} · ranked at ${new Date(ranking.ranked_at).toLocaleTimeString([], { hour12: false })}`;
  $("dest-list").replaceChildren(...(ranking.destinations.length
    ? ranking.destinations.map((d, index) => destinationItem(d, index))
    : [el("li", { class: "dest-none" }, "No hospital can take this patient: call dispatch by radio.")]));
  $("dest-excluded").replaceChildren(...ranking.excluded.map((x) =>
    el("li", { dataset: { code: x.code } }, `${x.name} (${x.code}): ${x.why}`)));
  $("dest-excluded-title").textContent = `Not offered (${ranking.excluded.length})`;
  $("dest-excluded-box").hidden = !ranking.excluded.length;
}

function destinationItem(d, index) {
  const ed = d.status.ed_status;
  return el("li", { class: `dest ed-${ed}`, dataset: { code: d.code, ed } },
    el("span", { class: "dest-rank", "aria-hidden": "true" }, String(index + 1)),
    el("div", { class: "dest-body" },
      el("div", { class: "dest-name" }, `${d.name} `, el("span", { class: "hint" }, d.code)),
      el("div", { class: "dest-travel" }, `ETA ${duration(d.eta_s)} · ${distance(d.distance_m)}`),
      el("div", { class: "dest-ed" }, edStatusText(d.status)),
      el("div", { class: "hint" }, [
        d.beds == null ? null : `${d.beds} bed${d.beds === 1 ? "" : "s"} free · `,
        d.services.map(words).join(", "),
      ])));
}

/** Add the incident's ended teleconsults, which a snapshot (open ones only) leaves out; the
 * feed sends every change after the snapshot, so one already held is kept. */
async function loadConsults(incidentId) {
  try {
    const consults = await api("GET", `/incidents/${incidentId}/consults`);
    for (const c of consults) if (!crew.consults.has(c.id)) crew.consults.set(c.id, [-1, c]);
    render();
  } catch {
    // the live messages still bring every change; the older ones return at the next snapshot
  }
}

/** Ask the server to rank the hospitals for the unit now (its incident's need). */
async function askDestinations() {
  if (!live || crew.ranking) return;
  crew.ranking = true;
  renderDestinations();
  $("crew-error").textContent = "";
  try {
    const answer = await live.request({ type: "destinations" });
    crew.destinations = answer.destinations;
  } catch (err) {
    $("crew-error").textContent = `Destinations: ${err.message}`;
  } finally {
    crew.ranking = false;
    renderDestinations();
  }
}

function renderButtons() {
  const { unit } = crew;
  const connected = live && live.state === "connected";
  const next = unit ? NEXT_STATUSES[unit.status] || [] : [];
  for (const button of document.querySelectorAll(".sbtn")) {
    let enabled;
    if (button.dataset.action === "ack") enabled = Boolean(unit && unit.incident_id && !unit.acknowledged);
    else enabled = next.includes(button.dataset.status);
    button.disabled = !(connected && enabled) || crew.busy;
    button.classList.toggle("next", enabled);
    button.setAttribute("aria-pressed", String(Boolean(unit && button.dataset.status === unit.status)));
  }
}

function drawMap() {
  const current = job();
  if (!current || $("job").hidden) return;
  if (!map) {
    map = createMap($("crew-map"), { zoomControl: false });
    if (baseMap) drawBaseMap(map, baseMap);
  } else if (baseMap && !map.najdaBase) {
    drawBaseMap(map, baseMap);
  }
  if (baseMap) map.najdaBase = true;
  map.invalidateSize();
  markers.incident = incidentMarker(map, markers.incident, current, true);
  markers.unit = unitMarker(map, markers.unit, crew.unit);
  const points = [[current.lat, current.lon], [crew.unit.lat, crew.unit.lon]];
  map.fitBounds(points, { padding: [30, 30], maxZoom: 15 });
}

// --- actions ------------------------------------------------------------------------------

async function press(button) {
  if (!live || crew.busy) return;
  crew.busy = true;
  renderButtons();
  $("crew-error").textContent = "";
  try {
    if (button.dataset.action === "ack") await live.request({ type: "ack" });
    else await live.request({ type: "status", status: button.dataset.status });
  } catch (err) {
    $("crew-error").textContent = err.message;
  } finally {
    crew.busy = false;
    renderButtons();
  }
}

window.addEventListener("DOMContentLoaded", start);
