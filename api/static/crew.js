// The crew screen for a moving ambulance: one unit's assignment (address, nature, priority,
// notes, a map); a status bar fixed at the bottom with the next step largest (a step that ends
// the job waits 5 s with an undo); a new job, a cancellation or a re-assignment takes the whole
// screen with sound and vibration until acknowledged, and the screen stays on during a job;
// presses made offline are queued with command ids and replayed once on reconnect; the phone's
// GPS as the unit's position when allowed; hospitals offered (re-ranked live) and the chosen
// destination recorded; the teleconsults on its incident.
import { api, session } from "./api.js";
import { Attention } from "./crew-alert.js";
import { Gps } from "./crew-gps.js";
import { Outbox } from "./crew-outbox.js";
import {
  clock, consultItems, distance, duration, edStatusText, el, kindLabel, NEXT_STATUSES, noteItems, priorityClass, priorityLabel, STATUS,
  statusLabel, words,
} from "./format.js";
import { CONNECTION_TEXT, startLive } from "./live.js";
import { createMap, drawBaseMap, incidentMarker, unitMarker } from "./mapview.js";
import { withNotes } from "./state.js";

const $ = (id) => document.getElementById(id);
// incidents: id -> [pos, incident]; consults: id -> [pos, consult]; destinations: the
// server's latest ranking for the unit
const crew = {
  unit: null, unitPos: -1, incidents: new Map(), consults: new Map(), destinations: null, ranking: false,
  takeover: null, // {kind: new_job | reassigned | cancelled, incident, previous}
  undo: null, // a step that ends the job, waiting out its undo time: {status, label, incident_id, deadline}
  clearing: null, // the incident this screen cleared the unit from (not a cancellation)
  relocation: null, // a move-up the dispatcher accepted: {station, name, actor, at}
};
/** How long a step that ends the job waits for an undo, milliseconds. */
const UNDO_MS = 5000;
const COMMITTED = new Set(["dispatched", "en_route", "on_scene", "transporting", "at_hospital"]);
const SEEN_KEY = "najda.crew.seen"; // the incident this screen last showed the crew (or "")
const attention = new Attention();
let outbox = null;
let gps = null;
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
  for (const button of document.querySelectorAll("#status-buttons .sbtn")) button.addEventListener("click", () => press(button));
  $("dest-button").addEventListener("click", () => askDestinations());
  $("undo-button").addEventListener("click", () => cancelUndo());
  $("takeover-ok").addEventListener("click", () => acknowledgeTakeover());
  $("gps-toggle").addEventListener("click", () => { attention.unlock(); if (gps) gps.toggle(); });
  $("dest-list").addEventListener("click", (event) => {
    const choose = event.target.closest("button[data-choose]");
    if (choose) chooseDestination(choose.dataset.choose, choose.dataset.name);
  });
  document.addEventListener("pointerdown", () => attention.unlock(), { capture: true });
  // Nothing hides behind the status bar: the page ends where the bar begins.
  new ResizeObserver(() => document.body.style.setProperty("--bar-h", `${$("status-bar").offsetHeight + 12}px`))
    .observe($("status-bar"));
  window.najdaCrew = { state: crew, alerts: attention.log, wake: attention.wake, get outbox() { return outbox; }, get gps() { return gps; } };
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
  attention.unlock(); // the sign-in is a user gesture: sound may play from now on
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
    ? "No network: presses are queued and sent when it returns; for anything urgent, use the radio."
    : state === "refused" ? detail : `Connection lost: reconnecting${detail ? ` (${detail})` : ""}. Buttons return with it.`;
  if (live && live.lastHello) {
    $("whoami").textContent = `Signed in as ${live.lastHello.user}`;
    if (!outbox) {
      outbox = new Outbox(live.lastHello.user, () => render());
      gps = new Gps((fix) => live.request({ type: "position", ...fix }), () => renderGps());
    }
  }
  if (state === "connected" && outbox) flush();
  render();
}

/** Send what the crew pressed, in order, now that the socket is up. */
function flush() {
  outbox.flush(live, (item, answer) => {
    if (!answer.ok) $("crew-error").textContent = `${item.label}: ${answer.error.message}`;
    if (answer.ok && item.type === "destination") $("crew-error").textContent = "";
    render();
  });
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
    if (message.relocation) crew.relocation = { ...message.relocation, actor: message.actor, at: message.at };
    else if (message.unit.status !== "available") crew.relocation = null; // a job supersedes it
    if (message.destinations) crew.destinations = message.destinations;
    else if (before !== message.unit.status && message.unit.status !== "transporting") crew.destinations = null;
  } else if (message.type === "incident" && message.pos > (crew.incidents.get(message.incident.id) || [-1])[0]) {
    const [, held] = crew.incidents.get(message.incident.id) || [];
    crew.incidents.set(message.incident.id, [message.pos, withNotes(held, message)]);
  } else if (message.type === "consult" && message.pos > (crew.consults.get(message.consult.id) || [-1])[0]) {
    crew.consults.set(message.consult.id, [message.pos, message.consult]);
  } else if (message.type === "hospital") {
    if (crew.destinations && !crew.ranking) askDestinations(); // a status changed: rank again
    return;
  } else if (message.type === "stale" && crew.unit) {
    const mine = message.units.find((u) => u.id === crew.unit.id);
    if (mine) crew.unit = { ...crew.unit, stale: mine.stale };
  } else {
    return;
  }
  watchJob();
  render();
}

// --- take-overs: a new job, a re-assignment, a cancellation --------------------------------

function seen() { return sessionStorage.getItem(SEEN_KEY); }
function setSeen(incidentId) { sessionStorage.setItem(SEEN_KEY, incidentId || ""); }

/** Compare the unit's incident with the one the crew last saw, and take the screen over when
 * it changed without the crew doing it. */
function watchJob() {
  const { unit } = crew;
  if (!unit) return;
  const now = unit.incident_id || "";
  const before = seen();
  if (before === null) { // first sight on this tab: a job already acknowledged is known
    setSeen(unit.acknowledged ? now : "");
    if (unit.acknowledged || !now) return;
  }
  const was = seen();
  if (now === was) {
    if (crew.takeover && crew.takeover.kind !== "cancelled" && unit.acknowledged) closeTakeover();
    return;
  }
  if (now && unit.acknowledged) { setSeen(now); closeTakeover(); return; } // acknowledged elsewhere
  if (now) {
    const kind = was ? "reassigned" : "new_job";
    if (!crew.takeover || crew.takeover.kind !== kind || crew.takeover.incident !== now) {
      showTakeover({ kind, incident: now, previous: was || null });
    }
    return;
  }
  if (crew.clearing === was || clearedByCrew(was)) { setSeen(""); crew.clearing = null; return; } // the crew cleared it
  if (!crew.takeover || crew.takeover.kind !== "cancelled") showTakeover({ kind: "cancelled", incident: null, previous: was });
}

/** True when this screen sent (or still holds) a press that clears the unit from `incidentId`. */
function clearedByCrew(incidentId) {
  const clears = (c) => c.type === "status" && !COMMITTED.has(c.status) && c.incident_id === incidentId;
  return Boolean(outbox && (outbox.items.some(clears) || outbox.sent.some(clears)));
}

function showTakeover(takeover) {
  crew.takeover = takeover;
  attention.start(takeover.kind);
}

function closeTakeover() {
  crew.takeover = null;
  attention.stop();
}

function acknowledgeTakeover() {
  const takeover = crew.takeover;
  if (!takeover) return;
  attention.unlock();
  setSeen(takeover.incident || "");
  if (takeover.incident && !(crew.unit && crew.unit.acknowledged)) enqueue({ type: "ack" }, "Acknowledge");
  closeTakeover();
  render();
}

function incidentText(id) {
  const [, incident] = crew.incidents.get(id) || [];
  if (!incident) return null;
  return { incident, where: incident.address || `${incident.lat.toFixed(5)}, ${incident.lon.toFixed(5)}` };
}

function renderTakeover() {
  const takeover = crew.takeover;
  $("takeover").hidden = !takeover;
  if (!takeover) return;
  $("takeover").dataset.kind = takeover.kind;
  const next = takeover.incident ? incidentText(takeover.incident) : null;
  const previous = takeover.previous ? incidentText(takeover.previous) : null;
  const title = { new_job: "NEW JOB", reassigned: "RE-ASSIGNED", cancelled: "STAND DOWN" }[takeover.kind];
  $("takeover-title").textContent = title;
  const body = [];
  if (next) {
    body.push(el("div", { class: "takeover-job" },
      el("span", { class: `prio-badge big prio-${priorityClass(next.incident.priority)}` }, next.incident.priority),
      el("div", {}, el("div", { class: "nature" }, next.incident.nature),
        el("div", { class: "hint" }, `Priority ${priorityLabel(next.incident.priority)}`),
        el("div", { class: "job-address" }, next.where))));
  } else if (takeover.incident) {
    body.push(el("p", {}, "Loading the job…"));
  }
  if (takeover.kind === "reassigned") {
    body.push(el("p", { class: "takeover-leave" }, "Leave: ", previous ? `${previous.incident.nature}, ${previous.where}` : "your previous job"));
  }
  if (takeover.kind === "cancelled") {
    const ended = previous && !previous.incident.open;
    body.push(el("p", { class: "takeover-leave" }, ended ? "The job was cancelled: " : "Dispatch released you from: ",
      previous ? `${previous.incident.nature}, ${previous.where}` : "your job"));
    body.push(el("p", {}, "You are available."));
  }
  $("takeover-body").replaceChildren(...body);
  $("takeover-ok").textContent = takeover.kind === "cancelled" ? "✔ OK, standing down" : "✔ Acknowledge";
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
  const move = crew.relocation;
  $("relocation").hidden = !move || Boolean(current);
  $("relocation").textContent = move
    ? `Move up to ${move.name} (${move.station}): ${move.actor}, ${new Date(move.at).toLocaleTimeString([], { hour12: false })}`
    : "";
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
  renderOutbox();
  renderTakeover();
  renderGps();
  attention.holdAwake(Boolean(expected().incident_id)); // the screen stays on during a job
}

/** The unit as it will be once the queued presses are taken: what the buttons offer next. */
function expected() {
  const { unit } = crew;
  if (!unit) return {};
  let { status, acknowledged } = unit;
  let incident = unit.incident_id;
  for (const item of outbox ? outbox.items : []) {
    if (item.type === "ack") acknowledged = true;
    if (item.type === "status") {
      status = item.status;
      if (!COMMITTED.has(status)) incident = null;
    }
  }
  if (crew.undo) status = crew.undo.status;
  return { status, acknowledged, incident_id: incident };
}

function renderOutbox() {
  const items = outbox ? outbox.items : [];
  const connected = live && live.state === "connected";
  $("outbox").hidden = !items.length;
  $("outbox").replaceChildren(...items.map((item) => el("li", { class: "queued", dataset: { commandId: item.command_id, type: item.type } },
    `• ${item.label} · ${connected ? "sending…" : "queued"} ${clock(item.queued_at)}`)));
}

function renderGps() {
  if (!gps) { $("gps-toggle").disabled = true; return; }
  $("gps-toggle").disabled = false;
  $("gps-toggle").setAttribute("aria-pressed", String(gps.enabled));
  $("gps-toggle").textContent = gps.enabled ? "◎ Stop sharing GPS" : "◎ Share GPS position";
  $("gps-state").dataset.state = gps.state;
  $("gps-state").textContent = gps.state === "off" ? "GPS off: the unit's position comes from its AVL, if any"
    : `GPS ${gps.state}${gps.detail ? `: ${gps.detail}` : ""}`;
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
  const chosen = chosenDestination();
  $("dest-chosen").hidden = !chosen;
  $("dest-chosen").textContent = chosen ? `Destination: ${chosen.name} (${chosen.code}), recorded` : "";
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
    ? ranking.destinations.map((d, index) => destinationItem(d, index, chosen))
    : [el("li", { class: "dest-none" }, "No hospital can take this patient: call dispatch by radio.")]));
  $("dest-excluded").replaceChildren(...ranking.excluded.map((x) =>
    el("li", { dataset: { code: x.code } }, `${x.name} (${x.code}): ${x.why}`)));
  $("dest-excluded-title").textContent = `Not offered (${ranking.excluded.length})`;
  $("dest-excluded-box").hidden = !ranking.excluded.length;
}

/** The hospital this unit's crew chose on its current incident, if any. */
function chosenDestination() {
  const current = job();
  return current && crew.unit ? (current.destinations || {})[crew.unit.id] || null : null;
}

function destinationItem(d, index, chosen) {
  const ed = d.status.ed_status;
  const picked = Boolean(chosen && chosen.code === d.code);
  const canChoose = ["on_scene", "transporting"].includes(expected().status);
  return el("li", { class: `dest ed-${ed}${picked ? " chosen" : ""}`, dataset: { code: d.code, ed } },
    el("span", { class: "dest-rank", "aria-hidden": "true" }, String(index + 1)),
    el("div", { class: "dest-body" },
      el("div", { class: "dest-name" }, `${d.name} `, el("span", { class: "hint" }, d.code)),
      el("div", { class: "dest-travel" }, `ETA ${duration(d.eta_s)} · ${distance(d.distance_m)}`),
      el("div", { class: "dest-ed" }, edStatusText(d.status)),
      el("div", { class: "hint" }, [
        d.beds == null ? null : `${d.beds} bed${d.beds === 1 ? "" : "s"} free · `,
        d.services.map(words).join(", "),
      ])),
    el("button", { type: "button", class: "dest-choose", dataset: { choose: d.code, name: d.name },
      "aria-pressed": String(picked), disabled: !canChoose || picked }, picked ? "✔ Chosen" : "Take patient here"));
}

function chooseDestination(code, name) {
  attention.unlock();
  enqueue({ type: "destination", hospital: code }, `Destination ${name}`);
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

/** Only the steps the unit may take next are shown; the first of them is the largest. Presses
 * work offline too (queued). */
function renderButtons() {
  const { unit } = crew;
  const next = expected();
  const steps = unit ? NEXT_STATUSES[next.status] || [] : [];
  const primary = steps[0] || (next.incident_id && !next.acknowledged ? "ack" : null);
  for (const button of document.querySelectorAll("#status-buttons .sbtn")) {
    const name = button.dataset.status || button.dataset.action;
    const enabled = button.dataset.action === "ack"
      ? Boolean(unit && next.incident_id && !next.acknowledged)
      : steps.includes(name);
    button.disabled = !enabled || Boolean(crew.undo);
    button.hidden = !enabled;
    button.classList.toggle("next", enabled);
    button.classList.toggle("primary", enabled && name === primary);
    button.setAttribute("aria-pressed", String(Boolean(unit && name === unit.status)));
  }
  $("undo").hidden = !crew.undo;
  $("status-buttons").hidden = Boolean(crew.undo);
  if (crew.undo) {
    const left = Math.max(0, Math.ceil((crew.undo.deadline - Date.now()) / 1000));
    $("undo-text").textContent = `${crew.undo.label} in ${left} s: this clears you from the job.`;
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

function press(button) {
  attention.unlock();
  if (!crew.unit || !outbox) return;
  $("crew-error").textContent = "";
  if (button.dataset.action === "ack") {
    setSeen(expected().incident_id);
    enqueue({ type: "ack" }, "Acknowledge");
    return;
  }
  const status = button.dataset.status;
  const next = expected();
  const body = { type: "status", status, incident_id: next.incident_id || undefined };
  const label = statusLabel(status);
  if (next.incident_id && !COMMITTED.has(status)) startUndo(body, label); // ends the job
  else enqueue(body, label);
}

function enqueue(body, label) {
  if (!outbox) return;
  outbox.add(body, label);
  if (live && live.state === "connected") flush();
  render();
}

/** A step that ends the job is sent only once its undo time has run out. */
function startUndo(body, label) {
  const deadline = Date.now() + UNDO_MS;
  const tick = setInterval(() => renderButtons(), 250);
  const timer = setTimeout(() => {
    clearInterval(tick);
    crew.undo = null;
    crew.clearing = body.incident_id;
    enqueue(body, label);
  }, UNDO_MS);
  crew.undo = { status: body.status, label, incident_id: body.incident_id, deadline, timer, tick };
  render();
}

function cancelUndo() {
  if (!crew.undo) return;
  clearTimeout(crew.undo.timer);
  clearInterval(crew.undo.tick);
  crew.undo = null;
  render();
}

window.addEventListener("DOMContentLoaded", start);
