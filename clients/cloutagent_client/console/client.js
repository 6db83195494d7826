// The console's WebSocket client: the same guarantees as the Python SDK (cloutagent_client).
//
// Requests are matched to replies by requestId, chunked frames are reassembled, the connection
// is kept alive with `ping` actions and renewed before API Gateway's 2-hour cap, and after any
// drop it reconnects with backoff and jitter, joins every followed project again and replays
// each one from the last seq it delivered (messages.get, paged), so a follower sees every event
// exactly once and in seq order. Wire contract: docs/protocol.md.

export class CloutagentError extends Error {
  constructor(code, message, details = {}, action = null) {
    super(message || code);
    this.code = code;
    this.details = details;
    this.action = action;
  }
}

// API Gateway closes a connection that sends a bigger frame (1009), failing every request on it:
// such a request is refused here, before it is sent, as the SDK does (MESSAGE_TOO_LARGE).
const MAX_FRAME_BYTES = 128 * 1024;

const DEFAULTS = {
  requestTimeout: 30_000,
  pingInterval: 240_000, // API Gateway closes a connection after 10 minutes without a client message
  maxConnectionAge: 110 * 60_000, // and any connection after 2 hours
  reconnectInitialDelay: 200,
  reconnectMaxDelay: 30_000,
  gapGrace: 250,
  historyPageSize: 500,
};


class ChunkAssembler {
  constructor() { this.parts = new Map(); }

  feed(frame) {
    if (frame.type !== "chunk") return frame;
    const parts = this.parts.get(frame.id) || [];
    parts[frame.index] = frame.payload;
    this.parts.set(frame.id, parts);
    if (parts.filter((p) => p !== undefined).length < frame.count) return null;
    this.parts.delete(frame.id);
    return JSON.parse(parts.join(""));
  }
}

// One WebSocket: frames out, whole frames in, replies matched.
class Connection {
  constructor(url, onEvent, onClose) {
    this.ws = new WebSocket(url);
    this.pending = new Map();
    this.assembler = new ChunkAssembler();
    this.openedAt = Date.now();
    this.lastSent = Date.now();
    this.counter = 0;
    this.prefix = Math.random().toString(36).slice(2, 8);
    this.closed = false;
    this.opened = new Promise((resolve, reject) => {
      this.ws.onopen = () => resolve(this);
      this.ws.onerror = () => reject(new CloutagentError("CONNECTION_FAILED", "Cannot connect (is the URL right, and the key or token valid?)"));
    });
    this.ws.onmessage = (message) => this.dispatch(message.data, onEvent);
    this.ws.onclose = (close) => {
      this.closed = true;
      for (const { reject } of this.pending.values()) {
        reject(new CloutagentError("CONNECTION_LOST", "The connection closed before the reply"));
      }
      this.pending.clear();
      onClose(this, close);
    };
  }

  dispatch(raw, onEvent) {
    let frame;
    try {
      frame = this.assembler.feed(JSON.parse(raw));
    } catch {
      return; // not JSON: nothing to match it to
    }
    if (!frame || typeof frame !== "object") return;
    if (frame.type === "event") onEvent(frame);
    else if (frame.type === "events") (frame.events || []).forEach(onEvent); // a stored batch, in seq order
    else if (frame.type === "response" || frame.type === "error") {
      const waiter = this.pending.get(frame.requestId);
      if (!waiter) return;
      this.pending.delete(frame.requestId);
      clearTimeout(waiter.timer);
      if (frame.type === "response") waiter.resolve(frame.data || {});
      else waiter.reject(new CloutagentError(frame.error?.code || "INTERNAL", frame.error?.message, frame.error?.details, frame.action));
    }
  }

  request(action, data, timeout) {
    if (this.closed || this.ws.readyState !== WebSocket.OPEN) {
      return Promise.reject(new CloutagentError("CONNECTION_LOST", "Not connected", {}, action));
    }
    const requestId = `${this.prefix}-${++this.counter}`;
    const frame = JSON.stringify({ action, requestId, data: data || {} });
    const size = new TextEncoder().encode(frame).length;
    if (size > MAX_FRAME_BYTES) {
      return Promise.reject(new CloutagentError("MESSAGE_TOO_LARGE",
        `The request is ${Math.round(size / 1024)} KB; a message may be at most ${MAX_FRAME_BYTES / 1024} KB`,
        { bytes: size, limitBytes: MAX_FRAME_BYTES }, action));
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(new CloutagentError("REQUEST_TIMEOUT", `No reply to ${action} in ${timeout / 1000} s`, {}, action));
      }, timeout);
      this.pending.set(requestId, { resolve, reject, timer });
      this.ws.send(frame);
      this.lastSent = Date.now();
    });
  }

  close() {
    try { this.ws.close(1000); } catch { /* already closed */ }
  }
}

// A project's events in seq order, each once, from live frames, replays and gap fills alike.
export class Subscription {
  constructor(client, projectId, sinceSeq, onEvent) {
    this.client = client;
    this.projectId = projectId;
    this.lastSeq = sinceSeq; // highest seq delivered; null until the first join says where "now" is
    this.buffer = new Map();
    this.onEvent = onEvent;
    this.filling = null;
    this.closed = false;
  }

  offer(event) {
    const seq = event.seq;
    if (this.closed || !Number.isInteger(seq)) return;
    if ((this.lastSeq !== null && seq <= this.lastSeq) || this.buffer.has(seq)) return; // duplicate
    this.buffer.set(seq, event);
    if (this.lastSeq === null) return;
    this.flush();
    if (this.buffer.size) this.fillSoon();
  }

  startAt(seq) {
    if (this.lastSeq !== null) return;
    this.lastSeq = seq;
    for (const s of [...this.buffer.keys()]) if (s <= seq) this.buffer.delete(s);
    this.flush();
  }

  flush() {
    while (this.buffer.has(this.lastSeq + 1)) {
      this.lastSeq += 1;
      const event = this.buffer.get(this.lastSeq);
      this.buffer.delete(this.lastSeq);
      try { this.onEvent(event); } catch (error) { console.error(error); }
    }
  }

  async catchUp() {
    if (this.lastSeq === null || this.closed) return;
    for await (const event of this.client.history(this.projectId, this.lastSeq)) this.offer(event);
  }

  fillSoon() {
    if (this.filling) return;
    this.filling = (async () => {
      await new Promise((r) => setTimeout(r, this.client.options.gapGrace));
      while (this.buffer.size && !this.closed) {
        const before = this.lastSeq;
        try { await this.catchUp(); } catch { break; } // the reconnect replays anyway
        if (this.lastSeq === before) break;
      }
      this.filling = null;
    })();
  }

  close() {
    this.closed = true;
    this.client.unsubscribe(this);
  }
}

export class Client extends EventTarget {
  constructor(wsUrl, credentials, options = {}) {
    super();
    this.wsUrl = wsUrl;
    this.credentials = credentials;
    this.options = { ...DEFAULTS, ...options };
    this.conn = null;
    this.subs = new Map(); // projectId -> Set<Subscription>
    this.state = "idle";
    this.reconnects = 0;
    this.attempt = 0;
    this.closing = false;
    this.waiters = [];
    this.timers = [];
  }

  get url() {
    const url = new URL(this.wsUrl);
    // Browsers cannot set headers on a WebSocket, so credentials go in the query string.
    if (this.credentials.token) url.searchParams.set("token", this.credentials.token);
    else url.searchParams.set("apiKey", this.credentials.apiKey);
    return url.toString();
  }

  setState(state, detail = {}) {
    this.state = state;
    this.dispatchEvent(new CustomEvent("state", { detail: { state, ...detail } }));
  }

  // The first connection: its failure is reported; later ones are retried.
  async connect() {
    this.setState("connecting");
    const conn = await this.open();
    this.use(conn);
    return this;
  }

  open() {
    const conn = new Connection(this.url, (event) => this.onEvent(event), (c, close) => this.onClose(c, close));
    return conn.opened;
  }

  use(conn) {
    const previous = this.conn;
    this.conn = conn;
    this.setState("open");
    for (const resolve of this.waiters.splice(0)) resolve(conn);
    this.keepAlive(conn);
    conn.ageTimer = setTimeout(() => this.rotate(conn), this.options.maxConnectionAge);
    for (const [projectId, subs] of this.subs) this.resume(conn, projectId, [...subs]);
    return previous;
  }

  keepAlive(conn) {
    conn.pinger = setInterval(async () => {
      if (conn.closed) return clearInterval(conn.pinger);
      if (Date.now() - conn.lastSent < this.options.pingInterval) return;
      try {
        await conn.request("ping", {}, Math.min(this.options.requestTimeout, this.options.pingInterval));
      } catch (error) {
        if (error.code === "REQUEST_TIMEOUT") conn.close(); // no answer: a dead connection
      }
    }, Math.max(50, Math.min(this.options.pingInterval / 4, 5_000)));
  }

  // Before the 2-hour cap: connect again, move the subscriptions, then retire the old socket.
  async rotate(old) {
    if (this.closing || old !== this.conn) return;
    old.retiring = true;
    try {
      const fresh = await this.open();
      this.reconnects += 1;
      this.use(fresh);
      const deadline = Date.now() + this.options.requestTimeout;
      while (old.pending.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      old.close();
    } catch {
      old.close(); // the ordinary reconnect takes over
    }
  }

  onClose(conn, close) {
    clearInterval(conn.pinger);
    clearTimeout(conn.ageTimer);
    if (this.closing || conn.retiring || conn !== this.conn) return;
    if (Date.now() - conn.openedAt > 5_000) this.attempt = 0; // only a connection that lasted resets the backoff
    this.conn = null;
    this.reconnect(close);
  }

  async reconnect(close) {
    while (!this.closing) {
      const step = Math.min(this.options.reconnectMaxDelay, this.options.reconnectInitialDelay * 2 ** this.attempt);
      this.attempt += 1;
      const delay = step / 2 + Math.random() * (step / 2); // backoff with "equal jitter"
      this.setState("reconnecting", { attempt: this.attempt, delay, code: close?.code });
      await new Promise((r) => setTimeout(r, delay));
      if (this.closing) return;
      try {
        const conn = await this.open();
        this.reconnects += 1;
        this.use(conn);
        return;
      } catch {
        // try again, a little later
      }
    }
  }

  async current(timeout) {
    if (this.closing) throw new CloutagentError("CLIENT_CLOSED", "Signed out");
    if (this.conn && !this.conn.closed) return this.conn;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new CloutagentError("REQUEST_TIMEOUT", "Not connected")), timeout);
      this.waiters.push((conn) => { clearTimeout(timer); resolve(conn); });
    });
  }

  async request(action, data = {}, { timeout } = {}) {
    const limit = timeout || this.options.requestTimeout;
    const started = Date.now();
    const conn = await this.current(limit);
    return conn.request(action, data, Math.max(10, limit - (Date.now() - started)));
  }

  async *history(projectId, sinceSeq = 0, filters = {}) {
    let data = { projectId, sinceSeq, limit: this.options.historyPageSize, ...filters };
    for (;;) {
      const page = await this.request("messages.get", data);
      for (const event of page.events || []) yield event;
      if (!page.nextCursor) return;
      data = { ...data, cursor: page.nextCursor };
    }
  }

  // A run's unified diff, page by page (execution.diff, paged with nextCursor).
  async *diff(projectId, executionId) {
    let data = { projectId, executionId };
    for (;;) {
      const page = await this.request("execution.diff", data);
      if (page.diff) yield page.diff;
      if (!page.nextCursor) return;
      data = { ...data, cursor: page.nextCursor };
    }
  }

  // Follow a project: events after sinceSeq (replayed first), or only new ones when null.
  async subscribe(projectId, { sinceSeq = null, onEvent }) {
    const sub = new Subscription(this, projectId, sinceSeq, onEvent);
    if (!this.subs.has(projectId)) this.subs.set(projectId, new Set());
    this.subs.get(projectId).add(sub);
    try {
      await this.resume(await this.current(this.options.requestTimeout), projectId, [sub], true);
    } catch (error) {
      this.unsubscribe(sub, false);
      throw error;
    }
    return sub;
  }

  async resume(conn, projectId, subs, strict = false) {
    try {
      const joined = await conn.request("project.join", { projectId }, this.options.requestTimeout);
      for (const sub of subs) sub.startAt(joined.lastSeq || 0);
      await Promise.all(subs.map((sub) => sub.catchUp()));
    } catch (error) {
      if (strict) throw error;
      if (error.code === "REQUEST_TIMEOUT") conn.close(); // the next connection joins again
    }
  }

  unsubscribe(sub, leave = true) {
    const subs = this.subs.get(sub.projectId);
    if (!subs) return;
    subs.delete(sub);
    if (subs.size) return;
    this.subs.delete(sub.projectId);
    if (leave && this.conn && !this.conn.closed) {
      this.conn.request("project.leave", { projectId: sub.projectId }, this.options.requestTimeout).catch(() => {});
    }
  }

  onEvent(frame) {
    for (const sub of this.subs.get(frame.projectId) || []) sub.offer(frame);
  }

  close() {
    this.closing = true;
    for (const subs of this.subs.values()) for (const sub of subs) sub.closed = true;
    this.subs.clear();
    if (this.conn) {
      clearInterval(this.conn.pinger);
      clearTimeout(this.conn.ageTimer);
      this.conn.close();
    }
    this.setState("closed");
  }
}
