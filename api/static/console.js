// The dispatcher console: live map, incident queue, unit board, intake, recommendations,
// assignment, release, re-assignment, notes and the selected incident's live timeline and
// teleconsults; hospitals with their ED status, and open remote-monitoring alerts.
import { attachAddressField } from "./address_field.js";
import { api, ApiError, session } from "./api.js";
import {
  age, bedsText, clock, consultItems, debounced, distance, duration, edStatusText, el, kindLabel, noteItems, kindTag, priorityClass,
  priorityLabel, priorityRank, RELEASABLE, statusCode, statusLabel, STATUS, words,
} from "./format.js";
import { CONNECTION_TEXT, startLive } from "./live.js";
import { createMap, drawBaseMap, hospitalMarker, incidentMarker, unitMarker } from "./mapview.js";
import { Alarm } from "./alarm.js";
import { buildHistoryForm, historyItems, searchHistory } from "./history.js";
import { attention, numbered, requirementItems } from "./recview.js";
import { ConsoleState } from "./state.js";
import { coverageView } from "./coverage.js";
import { holdTag, Holds, tickHoldTags } from "./holds.js";

const $ = (id) => document.getElementById(id);
const state = new ConsoleState();
const holds = new Holds(); // the calls the policy holds, marked in the queue
const ui = {
  selected: null, // incident id
  recs: [], // numbered units: [{unit_id, call_sign, kind, distance_m, eta_s, label, state, role}]
  rec: null, // the selected incident's recommendation as the API answered it
  holdTimer: 0, // looks at a held call again when its hold runs out
  option: null, // the unit typed by call sign, as GET /incidents/{id}/options/{unit} answered
  historyOffset: 0,
  floor: null, // GET /floor/settings: per-priority targets and the alarm's priorities
  recsFor: null,
  timelineFor: null,
  unitMarkers: new Map(),
  stacks: new Map(), // unit id -> its place in a pile of units at one point (0: bottom)
  looks: new Map(), // unit id -> what its marker and row show, to redraw only on a change
  incidentMarkers: new Map(),
  hospitalMarkers: new Map(), // hospital id -> marker (drawn from the live state, not the base map)
  draftMarker: null,
  where: null, // the location field's candidate list
  mapFix: null, // the last map click and the address found there
  geocoding: false, // the server has an area to geocode in
  unitsFitted: false,
  busy: false,
};
let map = null;
let live = null;
let alarm = null;
let coverage = null;

// --- start, login, logout -----------------------------------------------------------------

function start() {
  map = createMap($("map"));
  alarm = new Alarm($("alarm"));
  $("alarm").querySelector(".alarm-ack").addEventListener("click", () => alarm.acknowledge());
  $("alarm").querySelector(".alarm-mute").addEventListener("click", toggleMute);
  $("mute-button").addEventListener("click", toggleMute);
  // Browsers start sound only after a gesture: any key or click unlocks it.
  for (const type of ["keydown", "pointerdown"]) document.addEventListener(type, () => alarm.unlock(), { capture: true });
  map.on("click", (e) => { setDraftLocation(e.latlng.lat, e.latlng.lng); fillFromMap(e.latlng.lat, e.latlng.lng); });
  ui.where = attachAddressField($("f-location"), $("f-candidates"), {
    enabled: () => ui.geocoding,
    near: () => map.getCenter(),
    onChoose: (candidate) => {
      setDraftLocation(candidate.lat, candidate.lon, false);
      $("f-address").value = candidate.label;
      ui.mapFix = null;
      $("f-nature").focus();
    },
  });
  document.addEventListener("keydown", onKey);
  $("login-form").addEventListener("submit", onLogin);
  $("logout").addEventListener("click", logout);
  $("help-button").addEventListener("click", () => toggleHelp(true));
  $("help-close").addEventListener("click", () => toggleHelp(false));
  $("intake").addEventListener("submit", onReport);
  $("intake").addEventListener("reset", () => { clearDraft(); ui.where.clear(); ui.mapFix = null; $("intake-error").textContent = ""; });
  $("f-location").addEventListener("change", () => {
    const at = parseLocation($("f-location").value);
    if (at) setDraftLocation(at.lat, at.lon, false);
  });
  $("note-form").addEventListener("submit", onNote);
  $("release-form").addEventListener("submit", onRelease);
  $("reassign-form").addEventListener("submit", onReassign);
  $("any-form").addEventListener("submit", onAssignAny);
  $("triage-form").addEventListener("submit", onTriage);
  buildHistoryForm($("history-form"));
  $("history-form").addEventListener("submit", (event) => { event.preventDefault(); searchPage(0); });
  $("history-next").addEventListener("click", () => searchPage(ui.historyOffset + HISTORY_PAGE));
  $("any-unit").addEventListener("input", debounced(lookUpAny, 200));
  $("end-form").addEventListener("submit", onEnd);
  $("close-button").addEventListener("click", () => openEnd("close"));
  $("cancel-button").addEventListener("click", () => openEnd("cancel"));
  for (const button of document.querySelectorAll("[data-cancel]")) button.addEventListener("click", closeForms);
  setInterval(tick, 1000);
  tick();
  if (session.token) signIn(); else showLogin("");
}

function showLogin(message) {
  $("login").hidden = false;
  $("login-error").textContent = message;
  $("login-token").value = "";
  $("login-token").focus();
}

async function onLogin(event) {
  event.preventDefault();
  session.token = $("login-token").value.trim();
  signIn();
}

async function signIn() {
  try {
    await api("GET", "/incidents"); // checks the token and that its role may dispatch
  } catch (err) {
    session.token = null;
    showLogin(err instanceof ApiError && err.status === 403 ? `This token may not dispatch: ${err.message}` : err.message);
    return;
  }
  $("login").hidden = true;
  loadBaseMap();
  loadFloorSettings();
  coverage = coverageView({ summary: $("coverage-summary"), zones: $("coverage-zones"), moveUps: $("move-ups") }, toast);
  coverage.refresh(true);
  live = startLive("/ws/console", () => session.token, {
    onMessage,
    onState: showConnection,
    onFatal: (reason) => { session.token = null; showLogin(reason); },
  });
}

async function loadFloorSettings() {
  try {
    ui.floor = await api("GET", "/floor/settings");
  } catch (err) {
    toast(`Targets could not be loaded: ${err.message}`);
  }
}

const HISTORY_PAGE = 20;

/** One page of the history search; a found incident opens in the incident view (an ended one
 * read-only, with its timeline). */
async function searchPage(offset) {
  try {
    const rows = await searchHistory($("history-form"), offset, HISTORY_PAGE);
    ui.historyOffset = offset;
    $("history").replaceChildren(...historyItems(rows, (id) => select(id)));
    $("history-next").hidden = rows.length < HISTORY_PAGE;
  } catch (err) {
    toast(`History: ${err.message}`);
  }
}

function toggleMute() {
  alarm.toggleMute();
  $("mute-button").textContent = alarm.muted ? "Sound off" : "Sound on";
  $("mute-button").dataset.muted = String(alarm.muted);
}

/** A new call the floor must hear about: a monitoring incident, or a call of an alarm
 * priority reported by somebody else. */
function soundNewCall(message) {
  if (message.type !== "incident" || message.event !== "Incident.Reported" || !ui.floor) return;
  const incident = message.incident;
  const me = live && live.lastHello ? live.lastHello.user : null;
  if (incident.source === "monitoring") alarm.raise(`new:${incident.id}`, `monitoring incident ${incident.priority} ${incident.nature}`);
  else if (ui.floor.alarm_priorities.includes(incident.priority) && message.actor !== me) {
    alarm.raise(`new:${incident.id}`, `new ${incident.priority} ${incident.nature}`);
  }
}

function logout() {
  if (live) live.stop();
  session.token = null;
  location.reload();
}

async function loadBaseMap() {
  try {
    const base = await api("GET", "/map");
    ui.geocoding = Boolean(base.geocoding); // an area is loaded: addresses can be looked up
    const bounds = drawBaseMap(map, base, { hospitals: false });
    if (bounds && !ui.unitsFitted) map.fitBounds(bounds, { padding: [8, 8] });
  } catch (err) {
    toast(`The base map could not be loaded: ${err.message}`);
  }
}

function showConnection(connection, detail) {
  const node = $("conn");
  node.dataset.state = connection;
  node.textContent = `${CONNECTION_TEXT[connection] || connection}${detail ? ` (${detail})` : ""}`;
  document.body.classList.toggle("stale-view", connection !== "connected");
  if (live && live.lastHello) $("whoami").textContent = `${live.lastHello.user} (${live.lastHello.role})`;
}

// --- live messages ------------------------------------------------------------------------

function onMessage(message) {
  const changed = state.apply(message);
  // A report's message says whether the policy holds the call (the REST answer's shape).
  if (message.type === "incident" && "hold" in message) holds.put(message.incident.id, message.hold);
  if (changed.reset) {
    renderAll();
    recheckHolds();
    if (!ui.unitsFitted && state.units.size) { fitToUnits(); ui.unitsFitted = true; }
    return;
  }
  soundNewCall(message);
  for (const id of restack()) changed.units.add(id);
  for (const id of changed.units) renderUnit(id);
  for (const id of changed.incidents) renderIncidentMarker(id);
  if (changed.places) renderHospitals();
  if (changed.alerts) renderAlerts();
  if (changed.devices) renderDevices();
  if (changed.units.size && coverage) coverage.refresh();
  if (ui.selected && changed.consults.has(ui.selected)) { renderConsults(); refreshTimeline(); }
  // A unit sent or freed changes what the policy holds: a freed one may lift a hold, a sent one
  // may leave a waiting call held (marked without the dispatcher opening it).
  if (message.type === "unit") recheckWaiting();
  if (changed.units.size || changed.incidents.size || "hold" in message) {
    renderQueue();
    renderBoardSummary();
  }
  const selected = ui.selected;
  if (!selected) return;
  const concerns = changed.incidents.has(selected) ||
    [...changed.units].some((id) => (state.units.get(id) || {}).incident_id === selected || ui.assignedIds?.has(id));
  if (concerns) {
    renderDetail();
    refreshTimeline();
  }
  if ((message.type === "unit" || message.type === "incident") && state.incidents.has(selected)) refreshRecommendations();
}

function renderAll() {
  for (const [id, marker] of ui.unitMarkers) if (!state.units.has(id)) { marker.remove(); ui.unitMarkers.delete(id); }
  for (const [id, marker] of ui.incidentMarkers) if (!state.incidents.has(id)) { marker.remove(); ui.incidentMarkers.delete(id); }
  $("board").replaceChildren();
  ui.looks.clear();
  restack();
  for (const unit of state.board()) renderUnit(unit.id);
  for (const id of state.incidents.keys()) renderIncidentMarker(id);
  renderQueue();
  renderBoardSummary();
  renderHospitals();
  renderAlerts();
  renderDevices();
  if (ui.selected) { renderDetail(); refreshTimeline(); refreshRecommendations(); loadConsults(); }
}

/** Fit the map to where most units are (a city, not its outlying villages): the 80 % of
 * units nearest to the median position. The whole area stays a zoom-out away. */
function fitToUnits() {
  const units = [...state.units.values()];
  if (!units.length) return;
  const median = (values) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const lat = median(units.map((u) => u.lat)), lon = median(units.map((u) => u.lon));
  const near = units
    .map((u) => [(u.lat - lat) ** 2 + ((u.lon - lon) * Math.cos((lat * Math.PI) / 180)) ** 2, u])
    .sort((a, b) => a[0] - b[0])
    .slice(0, Math.max(1, Math.ceil(units.length * 0.8)))
    .map(([, u]) => [u.lat, u.lon]);
  map.fitBounds(near, { padding: [40, 40], maxZoom: 15 });
}

// --- unit board and markers ---------------------------------------------------------------

function renderUnit(id) {
  const unit = state.units.get(id);
  if (!unit) return;
  const incident = unit.incident_id ? state.incidents.get(unit.incident_id) : null;
  const stack = ui.stacks.get(id) || 0;
  const look = JSON.stringify([unit.status, unit.stale, unit.acknowledged, unit.incident_id, unit.status_at,
    incident && incident.priority, incident && incident.nature, stack]);
  const held = ui.unitMarkers.get(id);
  if (held && ui.looks.get(id) === look) { // only moved (AVL): no need to redraw
    held.setLatLng([unit.lat, unit.lon]);
    return;
  }
  ui.looks.set(id, look);
  ui.unitMarkers.set(id, unitMarker(map, held, unit, () => focusUnit(unit.id), stack));
  const row = el("tr", {
    id: `unit-${id}`,
    class: `status-${unit.status}${unit.stale ? " is-stale" : ""}`,
    dataset: { unit: unit.call_sign, status: unit.status },
  },
  el("th", { scope: "row" }, unit.call_sign),
  el("td", { title: kindLabel(unit.kind) }, el("span", { class: `kind-chip kind-${unit.kind}` }, kindTag(unit.kind))),
  el("td", { class: "status-cell" },
    el("span", { class: `status-chip status-${unit.status}` }, `${STATUS[unit.status]?.symbol ?? ""} ${statusLabel(unit.status)}`),
    unit.acknowledged && unit.incident_id ? el("span", { class: "ack", title: "the crew acknowledged" }, " ACK") : null,
    unit.stale ? el("span", { class: "stale-flag", title: `no report since ${unit.last_heard ? clock(unit.last_heard) : "a while"}` }, " STALE") : null),
  el("td", {}, incident
    ? el("button", { type: "button", class: "link", onclick: () => select(incident.id) }, `${incident.priority} ${incident.nature}`)
    : unit.incident_id ? "(closed)" : "—"),
  el("td", { class: "since", dataset: { since: unit.status_at } }, age(unit.status_at)));
  const shown = $(`unit-${id}`);
  if (shown) shown.replaceWith(row);
  else insertSorted($("board"), row, unit.call_sign);
}

/** Units parked at the very same point (a station) are piled up so each one shows; returns
 * the units whose place in a pile changed. */
function restack() {
  const piles = new Map();
  for (const unit of state.board()) {
    const key = `${unit.lat.toFixed(5)},${unit.lon.toFixed(5)}`;
    piles.set(key, [...(piles.get(key) || []), unit.id]);
  }
  const moved = [];
  for (const pile of piles.values()) {
    pile.forEach((id, index) => {
      if ((ui.stacks.get(id) || 0) !== index) moved.push(id);
      ui.stacks.set(id, index);
    });
  }
  return moved;
}

function insertSorted(body, row, callSign) {
  const after = [...body.children].find((r) => r.dataset.unit.localeCompare(callSign, undefined, { numeric: true }) > 0);
  body.insertBefore(row, after || null);
}

function renderBoardSummary() {
  const counts = {};
  for (const u of state.units.values()) counts[u.status] = (counts[u.status] || 0) + 1;
  $("board-summary").textContent = Object.entries(counts)
    .sort((a, b) => Object.keys(STATUS).indexOf(a[0]) - Object.keys(STATUS).indexOf(b[0]))
    .map(([s, n]) => `${n} ${statusCode(s)}`).join(" · ");
}

function focusUnit(id) {
  const row = $(`unit-${id}`);
  if (row) { row.scrollIntoView({ block: "nearest" }); row.classList.add("flash"); setTimeout(() => row.classList.remove("flash"), 1200); }
  const unit = state.units.get(id);
  if (unit && unit.incident_id && state.incidents.has(unit.incident_id)) select(unit.incident_id);
}

// --- incident queue and markers -----------------------------------------------------------

function renderIncidentMarker(id) {
  const incident = state.incidents.get(id);
  const marker = ui.incidentMarkers.get(id);
  if (!incident) {
    if (marker) { marker.remove(); ui.incidentMarkers.delete(id); }
    if (ui.selected === id) renderDetail();
    return;
  }
  ui.incidentMarkers.set(id, incidentMarker(map, marker, incident, ui.selected === id, () => select(id)));
}

function renderQueue() {
  const list = $("queue");
  const queue = orderedQueue();
  const waiting = queue.filter((i) => attention(i, state.unitsOf(i.id)) === "pending" || attention(i, state.unitsOf(i.id)) === "short").length;
  $("queue-count").textContent = `(${queue.length}${waiting ? ` · ${waiting} need units` : ""})`;
  $("queue-count").dataset.waiting = String(waiting);
  holds.lift(state.incidents, (id) => state.unitsOf(id));
  list.replaceChildren(...queue.map((incident) => {
    const units = state.unitsOf(incident.id);
    const selected = incident.id === ui.selected;
    const need = attention(incident, units);
    const hold = holds.get(incident.id); // held on purpose: still pending, counted and sorted so
    return el("li", {
      class: `queue-item prio-${priorityClass(incident.priority)}${selected ? " selected" : ""}${units.length ? "" : " unassigned"}${need === "short" ? " short" : ""}${hold ? " held" : ""}`,
      dataset: { incident: incident.id, attention: need },
      "aria-current": selected ? "true" : null,
    },
    el("button", { type: "button", class: "queue-button", onclick: () => select(incident.id), "aria-label": `${priorityLabel(incident.priority)}: ${incident.nature}` },
      el("span", { class: `prio-badge prio-${priorityClass(incident.priority)}` }, incident.priority),
      el("span", { class: "queue-main" },
        el("span", { class: "nature" }, incident.nature),
        el("span", { class: "address" }, incident.address || `${incident.lat.toFixed(4)}, ${incident.lon.toFixed(4)}`),
        el("span", { class: "queue-units" }, units.length
          ? [need === "short" ? el("span", { class: "short-flag", title: `short of ${incident.short.join(", ")}` }, `SHORT: ${incident.short.join(", ")}`) : null,
            ...units.map((u) => el("span", { class: `unit-pill status-${u.status}` }, `${u.call_sign} ${statusCode(u.status)}`))]
          : [el("span", { class: "unassigned-flag" }, need === "pending" ? "UNASSIGNED"
            : need === "short" ? `NO UNIT: short of ${incident.short.join(", ")}` : "UNITS CLEARED"),
          hold ? holdTag(hold) : null])),
      el("span", { class: "age", dataset: { since: incident.call_received_at } }, age(incident.call_received_at))));
  }));
  markOverdue();
}

/** Highlight, with the elapsed time, queue rows and units past their priority's target; an
 * overdue pending call sounds the alarm (once). */
function markOverdue(now = Date.now()) {
  if (!ui.floor) return;
  const target = (priority) => ui.floor.targets[priority];
  for (const row of document.querySelectorAll(".queue-item")) {
    const incident = state.incidents.get(row.dataset.incident);
    if (!incident || !target(incident.priority)) continue;
    const elapsed = (now - Date.parse(incident.call_received_at)) / 1000;
    const late = ["pending", "short"].includes(row.dataset.attention) && elapsed > target(incident.priority).call_to_dispatch_s;
    row.classList.toggle("overdue", late);
    row.dataset.overdue = late ? "call_to_dispatch" : "";
    if (late && row.dataset.attention === "pending") alarm.raise(`overdue:${incident.id}`, `${incident.priority} ${incident.nature} unassigned ${age(incident.call_received_at, now)}`);
  }
  for (const unit of state.units.values()) {
    const row = $(`unit-${unit.id}`);
    const incident = unit.incident_id ? state.incidents.get(unit.incident_id) : null;
    if (!row) continue;
    const limits = incident && target(incident.priority);
    let late = "";
    if (limits) {
      const inStatus = (now - Date.parse(unit.status_at)) / 1000;
      const sinceCall = (now - Date.parse(incident.call_received_at)) / 1000;
      if (unit.status === "dispatched" && inStatus > limits.turnout_s) late = "turnout";
      else if (["dispatched", "en_route"].includes(unit.status) && sinceCall > limits.on_scene_s) late = "on_scene";
      else if (unit.status === "at_hospital" && inStatus > limits.at_hospital_s) late = "at_hospital";
    }
    row.classList.toggle("overdue", Boolean(late));
    row.dataset.overdue = late;
    row.title = late ? `over the ${late.replace("_", " ")} target` : "";
  }
}

/** The queue with the incidents that need units (pending, short) on top, each part most
 * urgent first, then oldest. */
function orderedQueue() {
  const queue = state.queue(priorityRank);
  const needs = (i) => ["pending", "short"].includes(attention(i, state.unitsOf(i.id)));
  return [...queue.filter(needs), ...queue.filter((i) => !needs(i))];
}

function select(id) {
  const previous = ui.selected;
  ui.selected = id;
  closeForms();
  if (previous && previous !== id) renderIncidentMarker(previous);
  renderIncidentMarker(id);
  renderQueue();
  renderDetail();
  const item = document.querySelector(`.queue-item[data-incident="${id}"]`);
  if (item) item.scrollIntoView({ block: "nearest" });
  const incident = state.incidents.get(id);
  if (incident) map.panInside([incident.lat, incident.lon], { padding: [60, 60] });
  ui.recs = [];
  ui.recsFor = null;
  renderRecs();
  refreshRecommendations(true);
  refreshTimeline(true);
  renderConsults();
  loadConsults();
  loadCallDetails();
}

// --- callback, possible duplicates, re-triage and radio statuses --------------------------

/** The selected incident as stored (its callback number) and its possible duplicates. */
async function loadCallDetails() {
  const id = ui.selected;
  $("callback-line").replaceChildren();
  $("duplicates").hidden = true;
  if (!id || !state.incidents.has(id)) return;
  try {
    const [incident, duplicates] = await Promise.all([
      api("GET", `/incidents/${id}`), api("GET", `/incidents/${id}/duplicates`)]);
    if (ui.selected !== id) return;
    $("t-priority").value = incident.priority;
    $("callback-line").replaceChildren(...(incident.callback ? ["Callback ",
      el("a", { class: "callback", href: `tel:${incident.callback.replace(/[^+\d]/g, "")}` }, incident.callback)] : []));
    renderDuplicates(id, duplicates);
  } catch (err) {
    if (ui.selected === id && err.status !== 404) toast(err.message);
  }
}

function renderDuplicates(id, duplicates) {
  const box = $("duplicates");
  box.hidden = !duplicates.length;
  box.replaceChildren(...duplicates.map((d) => el("div", { class: "duplicate", dataset: { incident: d.id } },
    el("b", {}, "Possible duplicate: "), `${d.priority} ${d.nature} · ${d.address || ""} · ${distance(d.distance_m)} · ${age(d.call_received_at)} ago`,
    d.units.length ? ` · ${d.units.join(", ")}` : "",
    el("button", { type: "button", class: "dup-link", onclick: () => linkDuplicate(id, d) }, "Link (same call)"),
    el("button", { type: "button", class: "dup-dismiss", onclick: () => dismissDuplicate(id, d) }, "Dismiss"))));
}

async function linkDuplicate(id, original) {
  const ok = await act("Linking the duplicate", () => api("POST", `/incidents/${id}/duplicates/${original.id}/link`));
  if (!ok) return;
  toast(`Linked to ${original.priority} ${original.nature}: this call is cancelled as a duplicate`, "ok");
  if (state.incidents.has(original.id)) select(original.id);
}

async function dismissDuplicate(id, candidate) {
  const ok = await act("Dismissing", () => api("POST", `/incidents/${id}/duplicates/${candidate.id}/dismiss`));
  if (ok && ui.selected === id) loadCallDetails();
}

async function onTriage(event) {
  event.preventDefault();
  const id = ui.selected;
  const incident = id && state.incidents.get(id);
  if (!incident) return;
  const priority = $("t-priority").value;
  const typed = $("t-location").value.trim();
  const at = typed ? parseLocation(typed) : null;
  if (typed && !at) { toast("location: type latitude, longitude (e.g. 36.75, 3.06)"); return; }
  if (priority !== incident.priority) {
    const ok = await act("Changing the priority", () => api("POST", `/incidents/${id}/priority`, { priority }));
    if (!ok) return;
  }
  if (at) {
    const ok = await act("Moving the incident", () => api("POST", `/incidents/${id}/location`, { lat: at.lat, lon: at.lon, address: incident.address || "" }));
    if (!ok) return;
    $("t-location").value = "";
  }
  toast("Incident updated", "ok");
}

/** Status changes a dispatcher may record for a crew on the radio (domain/dispatch/unit.py). */
const RADIO_NEXT = {
  dispatched: ["en_route"], en_route: ["on_scene"], on_scene: ["transporting", "available"],
  transporting: ["at_hospital"], at_hospital: ["available"],
};

async function radioStatus(unit, status) {
  await act(`Recording ${unit.call_sign} ${statusLabel(status)}`, () =>
    api("POST", `/units/${unit.id}/status`, { status, reason: "by radio, entered by the dispatcher" }));
}

function moveSelection(step) {
  const queue = orderedQueue();
  if (!queue.length) return;
  const at = queue.findIndex((i) => i.id === ui.selected);
  const next = at < 0 ? 0 : Math.min(queue.length - 1, Math.max(0, at + step));
  select(queue[next].id);
}

// --- selected incident --------------------------------------------------------------------

function renderDetail() {
  const incident = ui.selected ? state.incidents.get(ui.selected) : null;
  $("detail-empty").hidden = Boolean(ui.selected);
  $("detail-body").hidden = !ui.selected;
  if (!ui.selected) return;
  $("detail-actions").hidden = !incident;
  if (!incident) {
    $("detail-head").replaceChildren(el("p", { class: "ended" }, "This incident has ended (closed or cancelled). Its timeline stays below."));
    $("recs").replaceChildren();
    $("assigned").replaceChildren();
    ui.assignedIds = new Set();
    return;
  }
  $("detail-head").replaceChildren(
    el("div", { class: "detail-title" },
      el("span", { class: `prio-badge big prio-${priorityClass(incident.priority)}` }, incident.priority),
      el("div", {},
        el("div", { class: "nature" }, incident.nature, incident.determinant ? ` (${incident.determinant})` : ""),
        el("div", { class: "hint" }, priorityLabel(incident.priority), " · ",
          el("span", { class: "detail-state", dataset: { attention: attention(incident, state.unitsOf(incident.id)) } },
            attention(incident, state.unitsOf(incident.id)) === "short" ? `SHORT of ${incident.short.join(", ")}` : incident.status.toUpperCase())))),
    el("div", { class: "address" }, incident.address || "(no address)", " · ", `${incident.lat.toFixed(5)}, ${incident.lon.toFixed(5)}`),
    el("div", { class: "hint" }, "Call received ", clock(incident.call_received_at), " · age ",
      el("span", { class: "age", dataset: { since: incident.call_received_at } }, age(incident.call_received_at))));
  const units = state.unitsOf(incident.id);
  ui.assignedIds = new Set(units.map((u) => u.id));
  $("assigned").replaceChildren(...(units.length ? units.map((u) =>
    el("li", { class: `status-${u.status}`, dataset: { unit: u.call_sign, status: u.status } },
      el("span", { class: `status-chip status-${u.status}` }, `${STATUS[u.status]?.symbol ?? ""} ${statusLabel(u.status)}`),
      ` ${u.call_sign} `, el("span", { class: "hint" }, kindLabel(u.kind)),
      u.acknowledged ? el("span", { class: "ack" }, " ACK") : null,
      destinationOf(incident, u) ? el("span", { class: "dest-chosen", dataset: { code: destinationOf(incident, u).code } },
        ` → ${destinationOf(incident, u).name} (${destinationOf(incident, u).code})`) : null,
      RELEASABLE.has(u.status) ? el("button", { type: "button", onclick: () => openRelease(u.id) }, "Release") : null,
      RELEASABLE.has(u.status) ? el("button", { type: "button", onclick: () => openReassign(u.id) }, "Re-assign")
        : null,
      ...(RADIO_NEXT[u.status] || []).map((next) => el("button", {
        type: "button", class: "radio", dataset: { next }, title: "the crew said so on the radio", onclick: () => radioStatus(u, next),
      }, `📻 ${statusLabel(next)}`)))) : [el("li", { class: "hint" }, "No unit yet.")]));
  $("notes").replaceChildren(...noteItems(incident.notes));
}

/** The hospital the unit's crew chose for its patient on this incident, if any. */
const destinationOf = (incident, unit) => (incident.destinations || {})[unit.id] || null;

const refreshRecommendations = debounced(() => loadRecommendations(), 150);

/** Ask the policy again about every call it holds and the calls waiting with no unit (the
 * most urgent HOLD_CHECKS of them): after a snapshot (a reload knows no hold) and after a unit
 * message (a unit freed may lift a hold; a unit sent may leave a waiting call held). */
async function recheckHolds() {
  const waiting = orderedQueue().filter((i) => attention(i, state.unitsOf(i.id)) === "pending");
  const ids = new Set([...waiting.map((i) => i.id).slice(0, HOLD_CHECKS), ...holds.ids()]);
  let changed = false;
  for (const id of ids) {
    try {
      const rec = await api("GET", `/incidents/${id}/recommendations?alternatives=0`);
      changed = holds.put(id, state.incidents.has(id) ? rec.hold : null) || changed;
    } catch (err) {
      if (err.status === 404 || err.status === 409) changed = holds.put(id, null) || changed;
      else toast(err.message);
    }
  }
  if (changed) renderQueue();
}
const recheckWaiting = debounced(() => recheckHolds(), 300);
const HOLD_CHECKS = 20; // waiting calls asked about each time (the most urgent ones)

async function loadRecommendations() {
  const id = ui.selected;
  if (!id || !state.incidents.has(id)) { ui.recs = []; ui.rec = null; renderRecs(); return; }
  try {
    const rec = await api("GET", `/incidents/${id}/recommendations?alternatives=4`);
    if (ui.selected !== id) return;
    // Never offer a unit the feed already shows committed (the feed may be ahead of this read).
    ui.rec = rec;
    if (holds.put(id, rec.hold)) renderQueue();
    ui.recs = numbered(rec, state.units);
    ui.recsFor = id;
    renderRecs();
  } catch (err) {
    if (ui.selected === id && err.status !== 409) toast(err.message);
    ui.recs = [];
    ui.rec = null;
    renderRecs();
  }
}

function renderRecs() {
  $("requirements").replaceChildren(...(ui.rec && ui.recsFor === ui.selected ? requirementItems(ui.rec) : []));
  const list = $("recs");
  renderHold(ui.rec && ui.recsFor === ui.selected ? ui.rec.hold : null);
  if (!ui.recs.length) {
    const allFilled = ui.rec && ui.rec.requirements.every((r) => r.state === "filled");
    list.replaceChildren(el("li", { class: "hint" }, !ui.recsFor ? "…"
      : allFilled ? "Every requirement is filled: type a call sign below to send more."
        : "No suitable unit is available: type any unit's call sign below."));
    return;
  }
  list.replaceChildren(...ui.recs.map((c, i) =>
    el("li", { class: c.role, dataset: { unit: c.call_sign, index: String(i + 1), role: c.role, requirement: c.label } },
      el("button", { type: "button", class: "assign", onclick: () => assign(i), "aria-keyshortcuts": String(i + 1),
        "aria-label": `Assign ${c.call_sign}, ${kindLabel(c.kind)}, ${distance(c.distance_m)}, ETA ${duration(c.eta_s)}` },
        el("kbd", {}, String(i + 1)),
        el("span", { class: "cs" }, c.call_sign),
        el("span", { class: `kind-chip kind-${c.kind}` }, kindTag(c.kind)),
        el("span", { class: "dist" }, distance(c.distance_m)),
        el("span", { class: "eta" }, `ETA ${duration(c.eta_s)}`),
        el("span", { class: "why hint" }, `${c.role}: ${c.label}`),
        c.coverage ? el("span", { class: "cover hint" }, typeof c.coverage === "string" ? c.coverage : c.coverage.text) : ""))));
}

/** The policy would hold the call: say why above the units (they stay assignable: sending
 * one overrides the hold) and look again when the hold runs out (a freed unit's message
 * refreshes the recommendation sooner). */
function renderHold(hold) {
  const box = $("rec-hold");
  clearTimeout(ui.holdTimer);
  $("recs").classList.toggle("held", !!hold);
  box.hidden = !hold;
  if (!hold) { box.replaceChildren(); delete box.dataset.until; return; }
  box.dataset.until = hold.until || "";
  box.dataset.zones = hold.zones.join("|");
  box.replaceChildren(el("b", {}, "HOLD "), el("span", { class: "hold-reason" }, hold.reason),
    el("div", { class: "hint" }, "Assigning a unit now overrides the hold."));
  if (hold.until) ui.holdTimer = setTimeout(refreshRecommendations, Math.max(0, Date.parse(hold.until) - Date.now()) + 1000);
}

async function assign(index) {
  const id = ui.selected;
  const choice = ui.recs[index];
  if (!id || !choice || ui.busy) return;
  await act(`Assigning ${choice.call_sign}`, () => api("POST", `/incidents/${id}/assignments`, { units: [choice.unit_id] }));
  refreshRecommendations(true);
}

const refreshTimeline = debounced(() => loadTimeline(), 100);

async function loadTimeline() {
  const id = ui.selected;
  if (!id) return;
  try {
    const timeline = await api("GET", `/incidents/${id}/timeline`);
    if (ui.selected !== id) return;
    ui.timelineFor = id;
    $("timeline").replaceChildren(...timeline.entries.map((e) =>
      el("li", { dataset: { event: e.event, position: String(e.position) } }, el("time", { datetime: e.at }, clock(e.at)), " ", e.text)));
  } catch (err) {
    if (ui.selected === id) toast(err.message);
  }
}

// --- teleconsults of the selected incident -----------------------------------------------

/** Fetch the selected incident's teleconsults (the snapshot holds open ones only: an ended
 * one and its recommendation come from here); live `consult` messages keep them current. */
async function loadConsults() {
  const id = ui.selected;
  if (!id) return;
  try {
    const consults = await api("GET", `/incidents/${id}/consults`);
    if (state.addConsults(consults) && ui.selected === id) renderConsults();
  } catch (err) {
    if (ui.selected === id && !(err instanceof ApiError && err.status === 404)) toast(`Teleconsults: ${err.message}`);
  }
}

function renderConsults() {
  $("consults").replaceChildren(...consultItems(ui.selected ? state.consultsOf(ui.selected) : []));
}

// --- hospitals and monitoring alerts ------------------------------------------------------

function renderHospitals() {
  const hospitals = state.hospitalList();
  for (const [id, marker] of ui.hospitalMarkers) if (!state.hospitals.has(id)) { marker.remove(); ui.hospitalMarkers.delete(id); }
  for (const h of hospitals) ui.hospitalMarkers.set(h.id, hospitalMarker(map, ui.hospitalMarkers.get(h.id), h));
  const count = (ed) => hospitals.filter((h) => h.status && h.status.ed_status === ed).length;
  $("hospitals-summary").textContent = hospitals.length ? `${count("closed")} closed · ${count("advisory")} advisory` : "";
  $("hospitals").replaceChildren(...(hospitals.length ? hospitals.map((h) => {
    const ed = h.status ? h.status.ed_status : "normal";
    const beds = bedsText(h.status && h.status.beds);
    return el("li", { class: `hospital ed-${ed}`, dataset: { code: h.code, ed } },
      el("b", {}, h.code), ` ${h.name} · `, el("span", { class: "ed-text" }, edStatusText(h.status)),
      beds ? el("span", { class: "hint" }, ` · beds: ${beds}`) : null);
  }) : [el("li", { class: "hint" }, "No hospital registered.")]));
}

function renderAlerts() {
  const alerts = state.openAlerts();
  $("alerts-count").textContent = alerts.length ? String(alerts.length) : "";
  $("alerts").replaceChildren(...(alerts.length ? alerts.map((a) => {
    const reading = a.readings.length ? a.readings[a.readings.length - 1] : null;
    const value = reading ? ` ${reading.value} ${reading.unit}` : "";
    return el("li", { class: `alert level-${a.level}`, dataset: { alert: a.id, level: a.level } },
      el("b", {}, a.level.toUpperCase()), ` ${a.patient_name}: ${words(a.vital)}${value} (${a.direction})`,
      el("span", { class: "hint" }, ` · ${clock(a.raised_at)}${a.acknowledged_by ? ` · ack ${a.acknowledged_by}` : ""}`),
      a.incident_id
        ? el("button", { type: "button", class: "link", onclick: () => select(a.incident_id) }, "incident") : null);
  }) : [el("li", { class: "hint" }, "No open alert.")]));
}

/** Devices sending values no patient can have: not an emergency, a nurse should check the
 * patient and the device (the value was refused, nothing was acted on). */
function renderDevices() {
  const patients = state.deviceProblems();
  $("devices-count").textContent = patients.length ? String(patients.length) : "";
  $("devices").replaceChildren(...(patients.length ? patients.map((p) => {
    const d = p.device_problem;
    const times = d.refused > 1 ? ` · ${d.refused} refused since ${clock(d.first_at)}` : "";
    return el("li", { class: "device", dataset: { patient: p.id, vital: d.vital, field: d.field } },
      el("b", {}, p.name), ` (${p.identifier}) · ${d.device}: `,
      el("span", { class: "device-value" }, `${words(d.vital)} ${d.value}`),
      " refused",
      el("span", { class: "hint" }, ` · ${d.field} · ${clock(d.last_at)}${times}`),
      el("div", { class: "hint device-message" }, d.message));
  }) : [el("li", { class: "hint" }, "No device problem.")]));
}

// --- forms: intake, notes, release, re-assign ---------------------------------------------

function parseLocation(text) {
  const match = /^\s*(-?\d+(?:\.\d+)?)\s*[,;\s]\s*(-?\d+(?:\.\d+)?)\s*$/.exec(text);
  if (!match) return null;
  const lat = Number(match[1]), lon = Number(match[2]);
  if (Math.abs(lat) > 90 || Math.abs(lon) > 180) return null;
  return { lat, lon };
}

function setDraftLocation(lat, lon, fill = true) {
  if (fill) $("f-location").value = `${lat.toFixed(5)}, ${lon.toFixed(5)}`;
  const icon = L.divIcon({ className: "draft-marker", html: "<span>NEW</span>", iconSize: [36, 20] });
  if (ui.draftMarker) ui.draftMarker.setLatLng([lat, lon]);
  else ui.draftMarker = L.marker([lat, lon], { icon, keyboard: false, title: "new incident's location" }).addTo(map);
  if (fill) $("f-address").focus();
}

/** The intake's location: a chosen geocoder candidate, typed coordinates, or a map click;
 * with how it was found (the incident records it). */
function intakeLocation() {
  const text = $("f-location").value.trim();
  const at = parseLocation(text);
  if (at) {
    const fix = ui.mapFix && ui.mapFix.lat === at.lat && ui.mapFix.lon === at.lon
      ? { typed: "", label: ui.mapFix.label, precision: "map" }
      : { typed: text, label: "", precision: "coordinates" };
    return { ...at, fix };
  }
  const chosen = ui.where.chosen();
  if (!chosen) return null;
  return { lat: chosen.lat, lon: chosen.lon, fix: { typed: chosen.typed, label: chosen.label, precision: chosen.precision } };
}

/** A map click: the nearest address (or street) goes into the address field. */
async function fillFromMap(lat, lon) {
  if (!ui.geocoding) return;
  const [rlat, rlon] = [Number(lat.toFixed(5)), Number(lon.toFixed(5))];
  ui.mapFix = { lat: rlat, lon: rlon, label: "" };
  try {
    const found = await api("GET", `/geocode/reverse?lat=${rlat}&lon=${rlon}`);
    if (!ui.mapFix || ui.mapFix.lat !== rlat || ui.mapFix.lon !== rlon) return; // clicked again
    ui.mapFix.label = found.label;
    $("f-address").value = found.precision === "address" ? found.label : `near ${found.label} (${Math.round(found.distance_m)} m)`;
  } catch {
    // no area loaded: the coordinates alone locate the call
  }
}

function clearDraft() {
  if (ui.draftMarker) { ui.draftMarker.remove(); ui.draftMarker = null; }
}

async function onReport(event) {
  event.preventDefault();
  const error = $("intake-error");
  error.textContent = "";
  const where = intakeLocation();
  if (!where) { error.textContent = "location: type an address and choose it (↓, Enter), click the map, or type latitude, longitude"; $("f-location").focus(); return; }
  const nature = $("f-nature").value.trim();
  if (!nature) { error.textContent = "nature: say what happened (e.g. chest pain)"; $("f-nature").focus(); return; }
  const body = { lat: where.lat, lon: where.lon, nature, priority: $("f-priority").value, address: $("f-address").value.trim(), location_fix: where.fix };
  const callback = $("f-callback").value.trim();
  if (callback) body.callback = callback;
  try {
    const created = await api("POST", "/incidents", body);
    $("intake").reset();
    toast(`Incident reported: ${created.priority} ${created.nature}`, "ok");
    // The report's answer is the feed's shape of an incident: show it at once (position -1:
    // any feed message wins); the feed brings the rest.
    state.putIncident(created, -1);
    renderIncidentMarker(created.id);
    select(created.id);
    document.activeElement.blur();
  } catch (err) {
    error.textContent = err.message;
  }
}

async function onNote(event) {
  event.preventDefault();
  const text = $("note-text").value.trim();
  if (!text || !ui.selected) return;
  const ok = await act("Adding the note", () => api("POST", `/incidents/${ui.selected}/notes`, { text }));
  if (ok) $("note-text").value = "";
}

function activeUnits() {
  return ui.selected ? state.unitsOf(ui.selected).filter((u) => RELEASABLE.has(u.status)) : [];
}

function fillUnitSelect(select, units, chosen) {
  select.replaceChildren(...units.map((u) => el("option", { value: u.id, selected: u.id === chosen }, `${u.call_sign} (${statusLabel(u.status)})`)));
}

function openRelease(unitId) {
  const units = activeUnits();
  if (!units.length) { toast("No unit of this incident can be released (a unit transporting or at hospital finishes its run)."); return; }
  closeForms();
  fillUnitSelect($("release-unit"), units, unitId);
  $("release-form").hidden = false;
  (units.length > 1 ? $("release-unit") : $("release-reason")).focus();
}

function openReassign(unitId) {
  const units = activeUnits();
  const targets = state.queue(priorityRank).filter((i) => i.id !== ui.selected);
  if (!units.length) { toast("No unit of this incident can be re-assigned."); return; }
  if (!targets.length) { toast("There is no other open incident to re-assign to."); return; }
  closeForms();
  fillUnitSelect($("reassign-unit"), units, unitId);
  $("reassign-target").replaceChildren(...targets.map((i) => el("option", { value: i.id }, `${i.priority} ${i.nature} — ${i.address || ""} (${age(i.call_received_at)})`)));
  $("reassign-form").hidden = false;
  $("reassign-target").focus();
}

function closeForms() {
  $("release-form").hidden = true;
  $("reassign-form").hidden = true;
  $("end-form").hidden = true;
}

/** Close (every unit has cleared) or cancel (its units are released) the selected incident. */
function openEnd(mode) {
  if (!ui.selected || !state.incidents.has(ui.selected)) return;
  closeForms();
  const form = $("end-form");
  form.dataset.mode = mode;
  $("end-label").textContent = mode === "close" ? "Disposition (how it ended)" : "Reason for cancelling";
  $("end-submit").firstChild.textContent = mode === "close" ? "Close " : "Cancel incident ";
  $("end-text").value = mode === "close" ? "treated and transported" : "";
  form.hidden = false;
  $("end-text").focus();
  $("end-text").select();
}

async function onEnd(event) {
  event.preventDefault();
  const mode = $("end-form").dataset.mode;
  const text = $("end-text").value.trim();
  if (!ui.selected || !text) return;
  const body = mode === "close" ? { disposition: text } : { reason: text };
  const incident = state.incidents.get(ui.selected);
  const ok = await act(mode === "close" ? "Closing" : "Cancelling", () =>
    api("POST", `/incidents/${ui.selected}/${mode}`, body));
  if (!ok) return;
  closeForms();
  const what = incident ? `${incident.priority} ${incident.nature}` : "Incident";
  toast(`${what} ${mode === "close" ? "closed" : "cancelled"}: ${text}`, "ok");
}

async function onRelease(event) {
  event.preventDefault();
  const unit = state.units.get($("release-unit").value);
  const reason = $("release-reason").value.trim() || "released by dispatcher";
  if (!unit || !ui.selected) return;
  const ok = await act(`Releasing ${unit.call_sign}`, () =>
    api("POST", `/incidents/${ui.selected}/assignments/${unit.id}/release`, { reason }));
  if (ok) closeForms();
}

async function onReassign(event) {
  event.preventDefault();
  const unit = state.units.get($("reassign-unit").value);
  const target = state.incidents.get($("reassign-target").value);
  const from = ui.selected;
  if (!unit || !target || !from) return;
  const moved = await act(`Re-assigning ${unit.call_sign} to ${target.nature}`, () =>
    api("POST", `/incidents/${target.id}/assignments/reassign`,
      { unit: unit.id, from_incident_id: from, reason: `re-assigned to ${target.priority} ${target.nature}`.slice(0, 500) }));
  if (!moved) return;
  closeForms();
  toast(`${unit.call_sign} re-assigned to ${target.priority} ${target.nature}`, "ok");
  select(target.id);
}

// --- any unit, by call sign ---------------------------------------------------------------

async function lookUpAny() {
  const id = ui.selected;
  const typed = $("any-unit").value.trim();
  ui.option = null;
  $("any-take").hidden = true;
  if (!id || !typed) { $("any-info").textContent = ""; return; }
  try {
    const option = await api("GET", `/incidents/${id}/options/${encodeURIComponent(typed)}`);
    if (ui.selected !== id || $("any-unit").value.trim() !== typed) return;
    ui.option = option;
    const where = `${distance(option.distance_m)} · ETA ${duration(option.eta_s)}`;
    if (option.incident_id === id) $("any-info").textContent = `${option.call_sign} is already on this incident`;
    else if (option.status === "available") $("any-info").textContent = `${option.call_sign} ${kindTag(option.kind)} available · ${where}`;
    else if (option.incident_id) {
      const other = state.incidents.get(option.incident_id);
      $("any-info").textContent = `${option.call_sign} is ${statusLabel(option.status)} on ${other ? `${other.priority} ${other.nature}` : "another incident"} · ${where}`;
    } else $("any-info").textContent = `${option.call_sign} is ${statusLabel(option.status)}: it cannot be assigned`;
  } catch (err) {
    if (ui.selected === id) $("any-info").textContent = err.message;
  }
}

function takenFor(id) {
  const incident = state.incidents.get(id);
  return incident ? `re-assigned to ${incident.priority} ${incident.nature}`.slice(0, 500) : "re-assigned by dispatcher";
}

/** Assign the typed unit: at once when it is available; a unit committed elsewhere is
 * taken only after the dispatcher confirms (one re-assign command, one atomic save). */
async function onAssignAny(event) {
  event.preventDefault();
  const id = ui.selected;
  await lookUpAny();
  const option = ui.option;
  if (!id || !option) return;
  if (option.status === "available") {
    const ok = await act(`Assigning ${option.call_sign}`, () => api("POST", `/incidents/${id}/assignments`, { units: [option.unit_id] }));
    if (ok) { $("any-unit").value = ""; $("any-info").textContent = `${option.call_sign} assigned`; }
    return;
  }
  if (!option.incident_id || option.incident_id === id) return;
  const take = $("any-take");
  take.hidden = false;
  take.textContent = `Take ${option.call_sign} from its incident?`;
  take.onclick = async () => {
    take.hidden = true;
    const ok = await act(`Taking ${option.call_sign}`, () => api("POST", `/incidents/${id}/assignments/reassign`,
      { unit: option.unit_id, from_incident_id: option.incident_id, reason: takenFor(id) }));
    if (ok) { $("any-unit").value = ""; $("any-info").textContent = `${option.call_sign} taken and assigned`; }
  };
  take.focus();
}

/** Run an API call, showing its error; resolves to whether it succeeded. */
async function act(what, call) {
  ui.busy = true;
  document.body.classList.add("busy");
  try {
    await call();
    return true;
  } catch (err) {
    if (err.status === 401) { // revoked or replaced meanwhile: sign in again
      if (live) live.stop();
      session.token = null;
      showLogin(err.message);
    } else {
      toast(`${what}: ${err.message}`);
    }
    return false;
  } finally {
    ui.busy = false;
    document.body.classList.remove("busy");
  }
}

let toastTimer = null;
function toast(message, kind = "error") {
  const node = $("toast");
  node.textContent = message;
  node.dataset.kind = kind;
  node.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { node.hidden = true; }, kind === "error" ? 8000 : 3000);
}

// --- keyboard -----------------------------------------------------------------------------

function typing(target) {
  return target instanceof HTMLElement && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
}

/** Close an open suggestion list (an address's, a datalist's); true if one was open. The
 * intake form is never wiped by Escape: Clear does that. */
function closeSuggestions() {
  const open = [...document.querySelectorAll("[data-suggestions]:not([hidden]), .suggestions:not([hidden])")]
    .filter((node) => node.children.length);
  for (const node of open) node.hidden = true;
  return open.length > 0;
}

function toggleHelp(show) {
  $("help").hidden = !show;
  if (show) $("help-close").focus();
}

function onKey(event) {
  if (!$("login").hidden || event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.key === "Escape") {
    // A suggestion list closes first, and nothing else happens on that Escape.
    if (closeSuggestions()) { event.preventDefault(); return; }
    if (!$("help").hidden) toggleHelp(false);
    else if (!$("release-form").hidden || !$("reassign-form").hidden || !$("end-form").hidden) closeForms();
    if (typing(event.target)) event.target.blur();
    $("toast").hidden = true;
    return;
  }
  if (event.key === "Enter" && event.target instanceof HTMLSelectElement && event.target.form) {
    event.preventDefault(); // Enter on a list confirms its form, as in a text field
    event.target.form.requestSubmit();
    return;
  }
  if (typing(event.target)) return;
  const key = event.key;
  if (/^[1-9]$/.test(key)) { assign(Number(key) - 1); event.preventDefault(); return; }
  const actions = {
    n: () => $("f-location").focus(),
    j: () => moveSelection(1),
    ArrowDown: () => moveSelection(1),
    k: () => moveSelection(-1),
    ArrowUp: () => moveSelection(-1),
    r: () => openRelease(),
    e: () => openReassign(),
    m: () => { if (ui.selected) $("note-text").focus(); },
    c: () => openEnd("close"),
    x: () => openEnd("cancel"),
    f: () => { const i = state.incidents.get(ui.selected); if (i) map.setView([i.lat, i.lon], Math.max(map.getZoom(), 14)); },
    "?": () => toggleHelp($("help").hidden),
    a: () => alarm.acknowledge(),
    u: () => { if (coverage) coverage.accept(); },
  };
  if (actions[key]) { event.preventDefault(); actions[key](); }
}

// --- clock --------------------------------------------------------------------------------

function tick() {
  const now = Date.now();
  $("now").textContent = new Date(now).toLocaleTimeString([], { hour12: false });
  for (const node of document.querySelectorAll("[data-since]")) node.textContent = age(node.dataset.since, now);
  markOverdue(now);
  tickHoldTags($("queue"), now);
  if (holds.lift(state.incidents, (id) => state.unitsOf(id), now)) renderQueue(); // time up
}

window.addEventListener("DOMContentLoaded", start);
