// The crew's presses as commands with their own ids: kept in order (and in localStorage, so a
// reload keeps them), shown as queued while offline, sent once per connection in order; the
// server answers a replayed id with its first result, so nothing is done twice.

const KEY = "najda.crew.outbox";
/** No answer within this time: the socket is taken for dead and opened again (the command is
 * replayed with its id on the new one). */
const ANSWER_MS = 15000;

function newId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

export class Outbox {
  /** @param {(items) => void} onChange called after every change (render) */
  constructor(owner, onChange) {
    this.key = `${KEY}.${owner}`;
    this.onChange = onChange;
    this.items = this.load();
    this.sending = false;
    this.sent = []; // every command sent, for the record (tests read it)
  }

  load() {
    try { return JSON.parse(localStorage.getItem(this.key) || "[]"); } catch { return []; }
  }

  save() {
    localStorage.setItem(this.key, JSON.stringify(this.items));
    this.onChange(this.items);
  }

  /** Queue a command ({type, ...}); `label` says what it is on screen. */
  add(body, label) {
    const item = { ...body, command_id: newId(), label, queued_at: new Date().toISOString() };
    this.items.push(item);
    this.save();
    return item;
  }

  /** Send the queued commands in order over `live` (when connected); each answer ends it. */
  async flush(live, onAnswer) {
    if (this.sending) return;
    this.sending = true;
    try {
      while (this.items.length && live.state === "connected") {
        const item = this.items[0];
        const { label, queued_at: _, ...body } = item;
        this.sent.push(body);
        let answer;
        const silent = setTimeout(() => live.reconnectNow(true), ANSWER_MS); // a half-open socket
        try {
          answer = { ok: true, result: await live.request(body) };
        } catch (err) {
          if (err.lost) return; // not delivered, or no answer: kept, replayed on reconnect
          answer = { ok: false, error: err };
        } finally {
          clearTimeout(silent);
        }
        this.items.shift();
        this.save();
        onAnswer(item, answer);
      }
    } finally {
      this.sending = false;
    }
  }
}
