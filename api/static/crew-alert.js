// What pulls a crew's attention: a tone (Web Audio), vibration, repeated while a take-over is
// unacknowledged; and a screen wake lock while the unit is on a job. What was done is logged in
// `log` (the browser tests read it as window.najdaCrew.alerts).

const TONES = { new_job: [880, 660, 880], reassigned: [660, 880, 660], cancelled: [440, 330] };
const VIBRATION = { new_job: [400, 150, 400, 150, 800], reassigned: [400, 150, 400, 150, 800], cancelled: [800, 200, 800] };
const REPEAT_MS = 4000;

export class Attention {
  constructor() {
    this.context = null;
    this.repeat = null;
    this.log = [];
    this.wake = { wanted: false, held: false, error: null, requests: 0 };
    this.sentinel = null;
    this.asking = false;
    document.addEventListener("visibilitychange", () => {
      // the browser drops the lock when the page is hidden: take it again on return
      if (this.wake.wanted && document.visibilityState === "visible") { this.wake.error = null; this.sentinel = null; this.wake.wanted = false; this.holdAwake(true); }
    });
  }

  /** Make (or wake) the audio context: call from a user gesture (sign-in, any tap). */
  unlock() {
    try {
      if (!this.context) {
        const Context = window.AudioContext || window.webkitAudioContext;
        if (Context) this.context = new Context();
      }
      if (this.context && this.context.state === "suspended") this.context.resume();
    } catch (err) {
      this.log.push({ kind: "audio", error: String(err) });
    }
  }

  /** Sound and vibrate for `kind` now and every few seconds until `stop()`. */
  start(kind) {
    this.stop();
    const ring = () => this.ring(kind);
    ring();
    this.repeat = setInterval(ring, REPEAT_MS);
  }

  stop() {
    clearInterval(this.repeat);
    this.repeat = null;
  }

  ring(kind) {
    const entry = { kind, at: Date.now(), tones: 0, vibrated: false, audio: this.context ? this.context.state : "none" };
    if (this.context) {
      const start = this.context.currentTime;
      (TONES[kind] || TONES.new_job).forEach((hz, i) => {
        const osc = this.context.createOscillator();
        const gain = this.context.createGain();
        osc.type = "square";
        osc.frequency.value = hz;
        gain.gain.value = 0.25;
        osc.connect(gain).connect(this.context.destination);
        osc.start(start + i * 0.25);
        osc.stop(start + i * 0.25 + 0.2);
        entry.tones += 1;
      });
    }
    if (navigator.vibrate) entry.vibrated = navigator.vibrate(VIBRATION[kind] || VIBRATION.new_job);
    this.log.push(entry);
  }

  /** Keep the screen on while `wanted` (on a job); released otherwise. */
  async holdAwake(wanted) {
    const same = wanted === this.wake.wanted;
    if (same && (!wanted || this.asking || this.sentinel || this.wake.error)) return; // asked already
    this.wake.wanted = wanted;
    if (!wanted) {
      if (this.sentinel) { const s = this.sentinel; this.sentinel = null; await s.release().catch(() => {}); }
      this.wake.held = false;
      return;
    }
    if (this.sentinel && !this.sentinel.released) return;
    if (!("wakeLock" in navigator)) { this.wake.error = "this browser has no screen wake lock"; return; }
    this.wake.requests += 1;
    this.asking = true;
    try {
      const sentinel = await navigator.wakeLock.request("screen");
      if (!this.wake.wanted) { await sentinel.release(); return; }
      this.sentinel = sentinel;
      this.wake.held = true;
      this.wake.error = null;
      sentinel.addEventListener("release", () => { this.wake.held = false; if (this.sentinel === sentinel) this.sentinel = null; });
    } catch (err) {
      this.wake.held = false;
      this.wake.error = err.message || String(err); // e.g. hidden page, battery saver
    } finally {
      this.asking = false;
    }
  }
}
