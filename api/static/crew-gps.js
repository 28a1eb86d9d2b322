// The phone's GPS as the unit's position, when the crew allows it: throttled (a fix at most
// every MIN_GAP_MS, and otherwise only when moved or a while has passed), fixes too coarse to
// place a vehicle are skipped, and reports go through the crew socket's position path.

const KEY = "najda.crew.gps";
export const MIN_GAP_MS = 3000; // never more often
export const MOVED_M = 50; // a move worth a report once MIN_GAP_MS has passed
export const REFRESH_MS = 15000; // report at least this often while standing still
export const WORST_ACCURACY_M = 250; // coarser fixes (cell towers, Wi-Fi) are not a position

function metres(a, b) {
  const rad = Math.PI / 180;
  const dlat = (b.lat - a.lat) * rad, dlon = (b.lon - a.lon) * rad;
  const h = Math.sin(dlat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dlon / 2) ** 2;
  return 2 * 6371008.8 * Math.asin(Math.min(1, Math.sqrt(h)));
}

export class Gps {
  /** @param {(fix) => Promise<void>} send reports a fix {lat, lon, at}; @param {() => void} onChange */
  constructor(send, onChange) {
    this.send = send;
    this.onChange = onChange;
    this.watch = null;
    this.last = null; // the last fix sent: {lat, lon, sentAt}
    this.state = "off"; // off, waiting, sharing, denied, unavailable
    this.detail = "";
    this.skipped = 0;
    this.later = null; // a throttled fix, sent once the minimum gap has passed
    this.reports = 0;
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
    const here = { lat, lon };
    clearTimeout(this.later);
    if (this.last) {
      const since = now - this.last.sentAt;
      const moved = metres(this.last, here);
      if (moved < MOVED_M && since < REFRESH_MS) return;
      if (since < MIN_GAP_MS) { // too soon: this fix goes when the gap has passed, unless a newer one does
        this.later = setTimeout(() => this.fix(position), MIN_GAP_MS - since);
        return;
      }
    }
    this.last = { lat, lon, sentAt: now };
    try {
      await this.send({ lat, lon, at: new Date(position.timestamp || now).toISOString() });
      this.reports += 1;
      this.set("sharing", `sent ${new Date(now).toLocaleTimeString([], { hour12: false })} (±${Math.round(accuracy)} m)`);
    } catch (err) {
      this.last = null; // not taken: the next fix tries again
      this.set("waiting", `not sent: ${err.message}`);
    }
  }
}
