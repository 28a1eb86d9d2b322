// The console's audible alarm (Web Audio, no sound file): it beeps, and repeats every few
// seconds, while any alarm is unacknowledged; it can be muted. What raised it stays listed.

const REPEAT_MS = 4000;

export class Alarm {
  /** `node`: an element that shows the alarm (data-active, data-muted, data-beeps). */
  constructor(node) {
    this.node = node;
    this.pending = new Map(); // key -> text, in the order raised
    this.raised = new Set(); // every key ever raised: one alarm per event, even once acknowledged
    this.muted = false;
    this.context = null;
    this.timer = null;
    this.beeps = 0;
  }

  /** Create or resume the audio context (browsers allow it after a user gesture). */
  unlock() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    if (!this.context) this.context = new Context();
    if (this.context.state === "suspended") this.context.resume();
  }

  /** Raise an alarm once per key (a new call, a new monitoring incident, an overdue call). */
  raise(key, text) {
    if (this.raised.has(key)) return;
    this.raised.add(key);
    this.pending.set(key, text);
    this.beep();
    if (!this.timer) this.timer = setInterval(() => this.beep(), REPEAT_MS);
    this.show();
  }

  /** The dispatcher has seen them: silence until the next one. */
  acknowledge() {
    this.pending.clear();
    clearInterval(this.timer);
    this.timer = null;
    this.show();
  }

  toggleMute() {
    this.muted = !this.muted;
    this.show();
  }

  beep() {
    if (!this.pending.size || this.muted) return;
    this.beeps += 1;
    this.show();
    const ctx = this.context;
    if (!ctx) return;
    const now = ctx.currentTime;
    for (const [offset, hz] of [[0, 880], [0.25, 660]]) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.frequency.value = hz;
      gain.gain.setValueAtTime(0.0001, now + offset);
      gain.gain.exponentialRampToValueAtTime(0.3, now + offset + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + offset + 0.2);
      osc.connect(gain).connect(ctx.destination);
      osc.start(now + offset);
      osc.stop(now + offset + 0.22);
    }
  }

  show() {
    const node = this.node;
    node.dataset.active = String(this.pending.size);
    node.dataset.muted = String(this.muted);
    node.dataset.beeps = String(this.beeps);
    node.hidden = !this.pending.size && !this.muted;
    const list = [...this.pending.values()];
    node.querySelector(".alarm-text").textContent = list.length
      ? `${this.muted ? "🔇 " : "🔔 "}${list.length} alert${list.length > 1 ? "s" : ""}: ${list.slice(-3).join(" · ")}`
      : "Alarm muted";
    node.querySelector(".alarm-mute").textContent = this.muted ? "Unmute" : "Mute";
  }
}
