// The live event feed (WS /api/v1/events/ws, authenticated by the session
// cookie), with reconnection and resynchronisation.
//
//   const feed = new Feed({
//     resync: async () => { /* reload the state by REST */ },
//     onEvents: (events) => { /* apply a batch: once per animation frame */ },
//     onStatus: (status) => { /* "connecting" | "live" | "reconnecting" | "closed" */ },
//   });
//   feed.start();
//
// The feed carries no history: events missed while disconnected are not
// replayed. So on every (re)connection the feed first opens the socket,
// buffers what arrives, awaits resync() (the page reloads its state by
// REST), then delivers the buffered events: nothing falls in the gap.
// Events are delivered in batches, one per animation frame, so a burst of
// events costs one render. A socket closed by the server for a policy reason
// (1008: logged out) sends the browser to the login page.

import { api } from "./api.js";

const BACKOFF_MS = [250, 500, 1000, 2000, 4000, 8000];

export class Feed {
  constructor({ resync = async () => {}, onEvents = () => {}, onStatus = () => {}, path = "/api/v1/events/ws" } = {}) {
    this.resync = resync;
    this.onEvents = onEvents;
    this.onStatus = onStatus;
    this.path = path;
    this.ws = null;
    this.attempt = 0;
    this.pending = [];
    this.frame = 0;
    this.syncing = false;
    this.stopped = true;
    this.status = "closed";
    this.received = 0;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    if (this.ws) this.ws.close(1000);
    this.setStatus("closed");
  }

  setStatus(status) {
    if (status !== this.status) {
      this.status = status;
      this.onStatus(status);
    }
  }

  connect() {
    const proto = window.location.protocol === "https:" ? "wss:" : "ws:";
    this.setStatus(this.attempt ? "reconnecting" : "connecting");
    const ws = new WebSocket(`${proto}//${window.location.host}${this.path}`);
    this.ws = ws;
    ws.onopen = () => this.opened(ws);
    ws.onmessage = (msg) => {
      let event;
      try { event = JSON.parse(msg.data); } catch { return; }
      this.received += 1;
      this.pending.push(event);
      if (!this.syncing) this.schedule();
    };
    ws.onclose = (ev) => this.closed(ws, ev);
  }

  async opened(ws) {
    this.syncing = true;
    try {
      await this.resync();
    } catch (err) {
      console.error("feed resync failed", err);
    } finally {
      this.syncing = false;
    }
    if (ws !== this.ws) return;
    this.attempt = 0;
    this.setStatus("live");
    this.schedule();
  }

  schedule() {
    if (this.frame || !this.pending.length) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      const batch = this.pending;
      this.pending = [];
      if (batch.length) this.onEvents(batch);
    });
  }

  async closed(ws, ev) {
    if (ws !== this.ws || this.stopped) return;
    this.ws = null;
    if (ev.code === 1008) {
      // refused or revoked: is the session still good?
      try {
        await api.get("/me", undefined, { noRedirect: true });
      } catch (err) {
        if (err.status === 401) {
          window.location.assign(`/?next=${encodeURIComponent(window.location.pathname)}`);
          return;
        }
      }
    }
    const delay = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    this.attempt += 1;
    this.setStatus("reconnecting");
    setTimeout(() => { if (!this.stopped) this.connect(); }, delay * (0.75 + Math.random() / 2));
  }
}
