// The auditor's read-only view: history search, an incident's timeline, its state at a chosen
// instant, and whether the store verifies against its hash chain. It changes nothing.
import { api, ApiError, session } from "./api.js";
import { applyRules, clock, el } from "./format.js";
import { buildHistoryForm, historyItems, searchHistory } from "./history.js";

const $ = (id) => document.getElementById(id);
const PAGE = 20;
let offset = 0;
let selected = null;

function start() {
  $("login-form").addEventListener("submit", (event) => {
    event.preventDefault();
    session.token = $("login-token").value.trim();
    signIn();
  });
  $("logout").addEventListener("click", () => { session.token = null; location.reload(); });
  buildHistoryForm($("history-form"));
  $("history-form").addEventListener("submit", (event) => { event.preventDefault(); search(0); });
  $("history-next").addEventListener("click", () => search(offset + PAGE));
  $("asof-form").addEventListener("submit", onAsOf);
  $("verify-button").addEventListener("click", verifyStore);
  if (session.token) signIn();
}

async function signIn() {
  try {
    await api("GET", "/incidents?state=all&limit=1");
    applyRules(await api("GET", "/floor/rules"));
  } catch (err) {
    session.token = null;
    $("login-error").textContent = err instanceof ApiError && err.status === 403 ? `This token may not read incidents: ${err.message}` : err.message;
    return;
  }
  $("login").hidden = true;
  search(0);
}

async function search(from) {
  $("history-error").textContent = "";
  try {
    const rows = await searchHistory($("history-form"), from, PAGE);
    offset = from;
    $("history").replaceChildren(...historyItems(rows, openIncident));
    $("history-next").hidden = rows.length < PAGE;
  } catch (err) {
    $("history-error").textContent = err.message;
  }
}

async function openIncident(id) {
  selected = id;
  $("asof-result").replaceChildren();
  try {
    const [incident, timeline] = await Promise.all([api("GET", `/incidents/${id}`), api("GET", `/incidents/${id}/timeline`)]);
    if (selected !== id) return;
    $("incident").replaceChildren(describe(incident, "now"));
    $("asof-form").hidden = false;
    $("timeline").replaceChildren(...timeline.entries.map((e) =>
      el("li", { dataset: { event: e.event, position: String(e.position) } },
        el("button", { type: "button", class: "link", title: "the incident's state at this entry", onclick: () => { $("asof").value = String(e.position); $("asof-form").requestSubmit(); } },
          el("time", { datetime: e.at }, clock(e.at))), " ", e.text)));
  } catch (err) {
    $("incident").textContent = err.message;
  }
}

function describe(incident, when) {
  const active = incident.assignments.filter((a) => a.active).map((a) => a.call_sign);
  return el("div", { class: "audit-incident", dataset: { status: incident.status, when } },
    el("b", {}, `${incident.priority} ${incident.nature}`), ` · ${incident.address || ""}`,
    el("div", {}, `Status ${incident.status.toUpperCase()} · units on it: ${active.length ? active.join(", ") : "none"}`),
    incident.disposition ? el("div", {}, `Ended: ${incident.disposition}`) : null,
    incident.callback ? el("div", {}, `Callback ${incident.callback}`) : null);
}

async function onAsOf(event) {
  event.preventDefault();
  if (!selected) return;
  const at = $("asof").value.trim();
  try {
    const past = await api("GET", `/incidents/${selected}?as_of=${encodeURIComponent(at)}`);
    $("asof-result").replaceChildren(el("h3", {}, `As it was at ${/^\d+$/.test(at) ? `log position ${at}` : at}`), describe(past, at));
  } catch (err) {
    $("asof-result").replaceChildren(el("p", { class: "error" }, err.message));
  }
}

async function verifyStore() {
  const node = $("verify");
  node.dataset.state = "running";
  node.textContent = "Verifying…";
  try {
    const result = await api("GET", "/audit/verify");
    node.dataset.state = result.ok ? "ok" : "broken";
    node.textContent = result.ok
      ? `Store verified: ${result.rows} rows, ${result.sealed} sealed, ${result.unsealed} not yet sealed`
      : `STORE ALTERED: ${result.findings.length} finding(s)`;
  } catch (err) {
    node.dataset.state = "error";
    node.textContent = `Verification failed: ${err.message}`;
  }
}

window.addEventListener("DOMContentLoaded", start);
