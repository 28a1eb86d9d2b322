// A websocket to /ws/console or /ws/crew that authenticates by its first message, remembers the
// last position (`pos`) it saw, and reconnects with backoff, resuming with ?since=<pos>.

/** What a page says of each state of its connection. */
export const CONNECTION_TEXT = {
  connecting: "Connecting…", connected: "● Connected", reconnecting: "Reconnecting…",
  offline: "Offline", refused: "Refused", closed: "Closed",
};

import { applyRules } from "./format.js";

const FATAL = { 4401: "the token is unknown or revoked", 4403: "this token's role may not open this screen" };

export class LiveClient {
  /**
   * @param {string} path "/ws/console" or "/ws/crew"
   * @param {() => string|null} token the bearer token to send first
   * @param {{onMessage: Function, onState: Function, onFatal: Function}} handlers
   */
  constructor(path, token, { onMessage, onState = () => {}, onFatal = () => {} }) {
    this.path = path;
    this.token = token;
    this.onMessage = onMessage;
    this.onState = onState;
    this.onFatal = onFatal;
    this.pos = null; // the newest position received; resume after it
    this.state = "connecting";
    this.history = []; // every state taken, for the record (tests and diagnostics read it)
    this.lastHello = null;
    this.attempt = 0;
    this.socket = null;
    this.stopped = false;
    this.timer = null;
    this.pending = new Map();
    this.serial = 0;
    window.addEventListener("online", () => this.reconnectNow());
    window.addEventListener("offline", () => this.wentOffline());
  }

  start() {
    this.stopped = false;
    this.open();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.socket) this.socket.close(1000, "signed out");
  }

  setState(state, detail = "") {
    this.state = state;
    this.history.push(state);
    this.onState(state, detail);
  }

  url() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const since = this.pos == null ? "" : `?since=${this.pos}`;
    return `${scheme}//${location.host}${this.path}${since}`;
  }

  open() {
    clearTimeout(this.timer);
    if (this.stopped) return;
    if (!navigator.onLine) { this.setState("offline"); this.retryLater(); return; }
    this.setState(this.attempt ? "reconnecting" : "connecting", this.attempt ? `attempt ${this.attempt + 1}` : "");
    const socket = new WebSocket(this.url());
    this.socket = socket;
    socket.onopen = () => socket.send(JSON.stringify({ type: "auth", token: this.token() }));
    socket.onmessage = (event) => this.receive(JSON.parse(event.data));
    socket.onclose = (event) => this.closed(socket, event);
  }

  receive(message) {
    if (message.type === "hello") {
      this.lastHello = message;
      if (message.rules) applyRules(message.rules);
      this.attempt = 0;
      this.setState("connected", message.resumed ? "resumed" : "");
      return;
    }
    if (message.type === "result" || message.type === "error") {
      const waiter = this.pending.get(message.id);
      if (waiter) {
        this.pending.delete(message.id);
        if (message.type === "result") waiter.resolve(message);
        else waiter.reject(Object.assign(new Error(message.detail), { status: message.status }));
      }
      return;
    }
    // Snapshots and changes carry the position they reflect; positions and stale flags carry
    // the feed's position, which is no newer than the last change: both are safe to resume from.
    if (typeof message.pos === "number" && (this.pos == null || message.pos > this.pos || message.type === "snapshot")) {
      this.pos = message.pos;
    }
    this.onMessage(message);
  }

  closed(socket, event) {
    if (socket !== this.socket) return;
    this.socket = null;
    this.failPending();
    if (this.stopped) { this.setState("closed"); return; }
    if (FATAL[event.code]) {
      this.stopped = true;
      this.setState("refused", event.reason || FATAL[event.code]);
      this.onFatal(event.reason || FATAL[event.code]);
      return;
    }
    if (event.code === 4400 && this.pos != null) this.pos = null; // a store reset: start afresh
    this.schedule();
  }

  schedule() {
    if (!navigator.onLine) { this.setState("offline"); this.retryLater(); return; }
    this.attempt += 1;
    const ceiling = Math.min(10_000, 500 * 2 ** Math.min(this.attempt - 1, 5));
    const delay = ceiling / 2 + Math.random() * (ceiling / 2); // jitter: consoles do not stampede
    this.setState("reconnecting", `attempt ${this.attempt + 1} in ${(delay / 1000).toFixed(1)} s`);
    this.timer = setTimeout(() => this.open(), delay);
  }

  /** Offline: drop the socket (it may linger half-open) and keep trying, slowly, in case
   * the browser's online event never comes. */
  wentOffline() {
    if (this.stopped) return;
    this.drop("the network is down");
    this.setState("offline");
    this.retryLater();
  }

  retryLater() {
    clearTimeout(this.timer);
    this.attempt += 1;
    this.timer = setTimeout(() => this.open(), Math.min(10_000, 1000 * 2 ** Math.min(this.attempt - 1, 3)));
  }

  /** The network is back: connect at once (a socket still trying is replaced; with `force`,
   * an open one too: it went silent). */
  reconnectNow(force = false) {
    if (this.stopped) return;
    if (!force && this.socket && this.socket.readyState === WebSocket.OPEN && this.state === "connected") return;
    this.drop("replaced");
    this.attempt = Math.max(this.attempt, 1);
    this.open();
  }

  /** Forget the current socket without waiting for its close event; requests on it fail. */
  drop(reason) {
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onclose = null;
      socket.onmessage = null;
      socket.close(1000, reason);
    }
    this.failPending();
  }

  failPending() {
    for (const waiter of this.pending.values()) waiter.reject(Object.assign(new Error("the connection was lost; try again"), { lost: true }));
    this.pending.clear();
  }

  /** Send a request on the socket (crew: ack, status, position); resolves to its result. */
  request(body) {
    return new Promise((resolve, reject) => {
      if (!this.socket || this.state !== "connected") {
        reject(Object.assign(new Error("not connected: wait for the connection to come back"), { lost: true }));
        return;
      }
      const id = ++this.serial;
      this.pending.set(id, { resolve, reject });
      this.socket.send(JSON.stringify({ ...body, id }));
    });
  }
}

/** Open a page's live connection with its token from the session; exposed as
 * `window.najdaLive` for diagnostics (and the browser tests). */
export function startLive(path, token, handlers) {
  const live = new LiveClient(path, token, handlers);
  window.najdaLive = live;
  live.start();
  return live;
}
