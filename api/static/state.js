// The console's picture of the world, keyed by id and applied in `pos` order: a message older
// than what is held for its object is ignored, so a unit never goes back to an earlier status.

/** The incident of a live message with its notes: a message carries them all (snapshot,
 * assignment), or the one note it adds to those held, or none (they are kept). */
export function withNotes(held, message) {
  const incident = message.incident;
  if (incident.notes) return incident;
  const notes = held && held.notes ? held.notes : [];
  return { ...incident, notes: message.note ? [...notes, message.note] : notes };
}

export class ConsoleState {
  constructor() {
    this.units = new Map(); // id -> unit (with _pos)
    this.incidents = new Map(); // id -> open incident (with _pos)
    this.ended = new Map(); // id -> pos at which an incident was seen closed or cancelled
    this.stations = new Map();
    this.hospitals = new Map();
    this.recommendations = new Map(); // incident id -> recommendation sent with its report
    this.consults = new Map(); // consult id -> teleconsult (with _pos), ended ones included
    this.alerts = new Map(); // alert id -> open remote-monitoring alert (with _pos)
    this.devices = new Map(); // patient id -> patient whose device sends implausible values (with _pos)
  }

  /** Apply one message; returns what changed: {units: Set, incidents: Set, places: bool,
   * consults: Set of incident ids, alerts: bool, devices: bool, reset: bool}. */
  apply(message) {
    const changed = {
      units: new Set(), incidents: new Set(), places: false, consults: new Set(), alerts: false, devices: false, reset: false,
    };
    switch (message.type) {
      case "snapshot":
        this.units.clear();
        this.incidents.clear();
        this.ended.clear();
        for (const u of message.units) this.units.set(u.id, { ...u, _pos: message.pos });
        for (const i of message.incidents) this.incidents.set(i.id, { ...i, _pos: message.pos });
        for (const s of message.stations) this.stations.set(s.id, s);
        for (const h of message.hospitals) this.hospitals.set(h.id, h);
        this.consults.clear();
        for (const c of message.consults || []) this.consults.set(c.id, { ...c, _pos: message.pos });
        this.alerts.clear();
        for (const a of message.alerts || []) this.alerts.set(a.id, { ...a, _pos: message.pos });
        this.devices.clear();
        for (const p of message.device_problems || []) this.devices.set(p.id, { ...p, _pos: message.pos });
        changed.reset = true;
        changed.places = true;
        break;
      case "unit":
        if (this.putUnit(message.unit, message.pos)) changed.units.add(message.unit.id);
        break;
      case "incident":
        if (this.putIncident(withNotes(this.incidents.get(message.incident.id), message), message.pos)) {
          changed.incidents.add(message.incident.id);
        }
        if (message.recommendation) this.recommendations.set(message.incident.id, message.recommendation);
        break;
      case "station":
        this.stations.set(message.station.id, message.station);
        changed.places = true;
        break;
      case "hospital":
        this.hospitals.set(message.hospital.id, message.hospital);
        changed.places = true;
        break;
      case "consult":
        if (this.putConsult(message.consult, message.pos)) changed.consults.add(message.consult.incident_id);
        break;
      case "alert":
        changed.alerts = this.putAlert(message.alert, message.pos);
        break;
      case "device": // a patient's device is right again (consoles get no readings)
        changed.devices = this.putDevice(message.patient, message.pos);
        break;
      case "patient": // a device problem, or the incident a monitoring alert raised
        if (message.patient) changed.devices = this.putDevice(message.patient, message.pos);
        if (message.alert_id && message.incident_id && this.alerts.has(message.alert_id)) {
          const alert = this.alerts.get(message.alert_id);
          this.alerts.set(alert.id, { ...alert, incident_id: message.incident_id });
          changed.alerts = true;
        }
        break;
      case "positions":
        for (const p of message.units) {
          const unit = this.units.get(p.id);
          if (unit && Date.parse(p.at) > Date.parse(unit.position_at)) {
            this.units.set(p.id, { ...unit, lat: p.lat, lon: p.lon, position_at: p.at });
            changed.units.add(p.id);
          }
        }
        break;
      case "stale":
        for (const s of message.units) {
          const unit = this.units.get(s.id);
          if (unit && unit.stale !== s.stale) {
            this.units.set(s.id, { ...unit, stale: s.stale, last_heard: s.last_heard });
            changed.units.add(s.id);
          }
        }
        break;
      default:
        break;
    }
    return changed;
  }

  putUnit(unit, pos) {
    const held = this.units.get(unit.id);
    if (held && held._pos >= pos) return false;
    this.units.set(unit.id, { ...unit, _pos: pos });
    return true;
  }

  putIncident(incident, pos) {
    const held = this.incidents.get(incident.id);
    if ((held && held._pos >= pos) || (this.ended.get(incident.id) ?? -1) >= pos) return false;
    if (incident.open) {
      this.incidents.set(incident.id, { ...incident, _pos: pos });
    } else {
      this.incidents.delete(incident.id);
      this.ended.set(incident.id, pos);
      this.recommendations.delete(incident.id);
    }
    return true;
  }

  putConsult(consult, pos) {
    const held = this.consults.get(consult.id);
    if (held && held._pos >= pos) return false;
    this.consults.set(consult.id, { ...consult, _pos: pos });
    return true;
  }

  /** Teleconsults the REST API lists for an incident; only those not held are taken (the feed
   * sends every change after its snapshot, so a held one is as new as the server's). */
  addConsults(consults) {
    let added = false;
    for (const c of consults) {
      if (!this.consults.has(c.id)) { this.consults.set(c.id, { ...c, _pos: -1 }); added = true; }
    }
    return added;
  }

  /** An incident's teleconsults, oldest request first. */
  consultsOf(incidentId) {
    return [...this.consults.values()]
      .filter((c) => c.incident_id === incidentId)
      .sort((a, b) => Date.parse(a.requested_at) - Date.parse(b.requested_at));
  }

  putAlert(alert, pos) {
    const held = this.alerts.get(alert.id);
    if (held && held._pos >= pos) return false;
    if (alert.open) this.alerts.set(alert.id, { ...alert, _pos: pos });
    else if (held) this.alerts.delete(alert.id);
    else return false;
    return true;
  }

  /** Keep a patient whose device sends implausible values (the problem set, not discharged);
   * forget one whose device is right again. Returns whether anything changed. */
  putDevice(patient, pos) {
    const held = this.devices.get(patient.id);
    if (held && held._pos >= pos) return false;
    if (patient.device_problem && !patient.discharged) this.devices.set(patient.id, { ...patient, _pos: pos });
    else if (held) this.devices.delete(patient.id);
    else return false;
    return true;
  }

  /** Patients whose devices send implausible values, the latest refusal first. */
  deviceProblems() {
    const last = (p) => Date.parse(p.device_problem.last_at);
    return [...this.devices.values()].sort((a, b) => last(b) - last(a));
  }

  /** Open monitoring alerts, critical before warning, then newest first. */
  openAlerts() {
    const rank = (a) => (a.level === "critical" ? 1 : 0);
    return [...this.alerts.values()].sort((a, b) => rank(b) - rank(a) || Date.parse(b.raised_at) - Date.parse(a.raised_at));
  }

  /** Hospitals, closed then advisory first (what a dispatcher must know), then by code. */
  hospitalList() {
    const rank = { closed: 0, advisory: 1, normal: 2 };
    return [...this.hospitals.values()].sort(
      (a, b) => (rank[a.status?.ed_status] ?? 3) - (rank[b.status?.ed_status] ?? 3) || a.code.localeCompare(b.code),
    );
  }

  /** Open incidents, most urgent first, then oldest first. */
  queue(rank) {
    return [...this.incidents.values()].sort(
      (a, b) => rank(b.priority) - rank(a.priority) || Date.parse(a.call_received_at) - Date.parse(b.call_received_at),
    );
  }

  /** Units by call sign. */
  board() {
    return [...this.units.values()].sort((a, b) => a.call_sign.localeCompare(b.call_sign, undefined, { numeric: true }));
  }

  /** The units working an incident now, as the freshest unit messages say. */
  unitsOf(incidentId) {
    return [...this.units.values()].filter((u) => u.incident_id === incidentId);
  }
}
