// The phone's GPS as the unit's position, when the crew allows it: the newest fix at most every
// SEND_GAP_MS (a steady cadence, like an AVL box), fixes too coarse to place a vehicle skipped,
// reports through the crew socket's position path. The server decides what a report is worth
// (najda.domain.dispatch.command_inputs.PositionPolicy: moved far enough, or old enough, becomes
// an event); the page measures no distances and keeps no copy of that rule.

const KEY = "najda.crew.gps";
export const SEND_GAP_MS = 3000; // never more often: a newer fix waits, and replaces a waiting one
export const WORST_ACCURACY_M = 250; // coarser fixes (cell towers, Wi-Fi) are not a position

export class Gps {
  /** @param {(fix) => Promise<{recorded: boolean}>} send reports a fix {lat, lon, at}; @param {() => void} onChange */
  constructor(send, onChange) {
    this.send = send;
    this.onChange = onChange;
    this.watch = null;
    this.sentAt = null; // when the last fix was sent (ms)
    this.state = "off"; // off, waiting, sharing, denied, unavailable
    this.detail = "";
    this.skipped = 0;
    this.later = null; // a fix that came too soon, sent once the gap has passed
    this.reports = 0;
    this.recorded = 0; // of those, the ones the server kept as events (its rule, not ours)
    if (localStorage.getItem(KEY) === "on") this.enable();
  }

  get enabled() { return this.watch !== null; }

  toggle() { if (this.enabled) this.disable(); else this.enable(); }

  enable() {
    if (!("geolocation" in navigator)) { this.set("unavailable", "this browser has no GPS access"); return; }
    localStorage.setItem(KEY, "on");
    this.set("waiting", "waiting for a GPS fix");
    this.watch = navigator.geolocation.watchPosition(
      (position) => this.fix(position),
      (err) => this.set(err.code === err.PERMISSION_DENIED ? "denied" : "waiting", err.message),
      { enableHighAccuracy: true, maximumAge: 2000, timeout: 30000 },
    );
  }

  disable() {
    if (this.watch !== null) navigator.geolocation.clearWatch(this.watch);
    clearTimeout(this.later);
    this.watch = null;
    localStorage.setItem(KEY, "off");
    this.set("off", "");
  }

  set(state, detail) {
    this.state = state;
    this.detail = detail;
    this.onChange();
  }

  async fix(position) {
    const { latitude: lat, longitude: lon, accuracy } = position.coords;
    if (!(accuracy <= WORST_ACCURACY_M)) {
      this.skipped += 1;
      this.set("waiting", `GPS too coarse (±${Math.round(accuracy)} m)`);
      return;
    }
    const now = Date.now();
    clearTimeout(this.later);
    const since = this.sentAt === null ? Infinity : now - this.sentAt;
    if (since < SEND_GAP_MS) { // too soon: this fix goes when the gap has passed, unless a newer one does
      this.later = setTimeout(() => this.fix(position), SEND_GAP_MS - since);
      return;
    }
    this.sentAt = now;
    try {
      const answer = await this.send({ lat, lon, at: new Date(position.timestamp || now).toISOString() });
      this.reports += 1;
      if (answer && answer.recorded) this.recorded += 1;
      this.set("sharing", `sent ${new Date(now).toLocaleTimeString([], { hour12: false })} (±${Math.round(accuracy)} m)`);
    } catch (err) {
      this.sentAt = null; // not taken: the next fix tries again at once
      this.set("waiting", `not sent: ${err.message}`);
    }
  }
}
