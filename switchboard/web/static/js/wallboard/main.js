// The supervisor wallboard: queues, agents and today's trend, live.
//
// Start: GET /api/v1/wallboard (the whole board). Then the event feed
// (feed.js: batches, one per animation frame) is applied incrementally:
// - what an event says outright is shown at the next flush (at most every
//   FLUSH_MS, in an animation frame): an agent_state event sets the agent's
//   status, state, reason and time in state, and the presence counts of its
//   queues;
// - what needs the report's definitions (today's figures, the queue's live
//   waiting count, an agent's current contact) is marked dirty, and one
//   partial GET /wallboard?queues=..&agents=.. refreshes just those rows, at
//   most every REFRESH_MS and one request at a time, never the whole board.
// A row older than an event already applied never overwrites it (the
// snapshot's `at` against the event's). Time in state and the longest wait
// tick every second. window.__wallboard exposes the page's latency figures
// (event -> DOM, and event -> refreshed figures) and its model, for the
// browser tests and bench/wallboard.py.

import { api } from "../api.js";
import { Feed } from "../feed.js";
import { ready, t } from "../i18n.js";
import { $, el, feedIndicator, toastError } from "../ui.js";
import { Actions } from "./actions.js";
import { TrendChart } from "./chart.js";
import { presence, Samples } from "./model.js";
import { AgentRow, QueueTile } from "./render.js";

const REFRESH_MS = 250;
const FLUSH_MS = 200;
const CLOSING = new Set(["ended", "wrapup_ended", "abandoned", "exited", "enqueue_refused"]);
const MAX_AGENT_IDS = 100;  // more dirty agents than this: refresh them all

const board = {
  queues: new Map(),  // id -> QueueTile
  agents: new Map(),  // id -> AgentRow
  trend: null,
  stateAt: new Map(),  // agent id -> `at` of the last agent_state applied
  contactQueue: new Map(),  // interaction id -> its queue, from the events that name it
  skew: 0,  // local clock - server clock, seconds
  live: false,
};
const dirty = { queues: new Set(), agents: new Set(), trend: false, since: null };
const stats = { events: 0, refreshes: 0, eventLatencies: new Samples(), figureLatencies: new Samples(), work: {} };

/** Run fn, adding its duration to stats.work[name] (count, total and max ms). */
function timed(name, fn) {
  const t0 = performance.now();
  try {
    return fn();
  } finally {
    const ms = performance.now() - t0;
    const w = stats.work[name] || (stats.work[name] = { count: 0, total_ms: 0, max_ms: 0 });
    w.count += 1;
    w.total_ms += ms;
    w.max_ms = Math.max(w.max_ms, ms);
  }
}
let refreshTimer = 0, inFlight = false, lastRefresh = 0, lastUpdate = 0;

const queuesBox = $("#wb-queues");
const agentsBody = $("#wb-agent-rows");
const chart = new TrendChart($("#wb-trend"), $("#wb-trend-table tbody"));
const actions = new Actions({
  queue: (id) => board.queues.get(id)?.row,
  agent: (id) => board.agents.get(id)?.agent,
  queues: () => [...board.queues.values()].map((q) => q.row),
  changed: (part) => { if (part.queue) dirty.queues.add(part.queue); if (part.agent) dirty.agents.add(part.agent); scheduleRefresh(); },
});

const serverNow = () => Date.now() / 1000 - board.skew;

// Only the agent rows on screen tick (time in state); one scrolled into view
// catches up at once.
const rowsInView = new IntersectionObserver((entries) => {
  for (const entry of entries) {
    const r = board.agents.get(entry.target.dataset.agent);
    if (!r) continue;
    r.visible = entry.isIntersecting;
    if (r.visible) r.tick(serverNow());
  }
});
const queueName = (id) => board.queues.get(id)?.row.name || id || "";

// ------------------------------------------------------------------ snapshots
function applyQueues(rows, at) {
  for (const row of rows) {
    let tile = board.queues.get(row.id);
    if (!tile) {
      tile = new QueueTile(row, (id) => actions.openQueue(id));
      board.queues.set(row.id, tile);
      queuesBox.append(tile.node);
    } else {
      tile.update(row, at);
    }
  }
}

function applyAgents(rows, at) {
  let added = false;
  for (const row of rows) {
    const known = board.stateAt.get(row.id);
    let agent = row;
    const current = board.agents.get(row.id)?.agent;
    if (current && known !== undefined && known > at) {
      // an agent_state event newer than this snapshot was applied: keep what it said
      agent = { ...row, status: current.status, reason: current.reason, state: current.state,
        presence: current.presence, since: current.since };
    }
    let r = board.agents.get(row.id);
    if (!r) {
      r = new AgentRow(agent, queueName, (id) => actions.openAgent(id));
      board.agents.set(row.id, r);
      rowsInView.observe(r.node);
      added = true;
    } else {
      r.update(agent, serverNow());
    }
  }
  if (added) {
    const collator = new Intl.Collator(document.documentElement.lang, { numeric: true });
    const rowsSorted = [...board.agents.values()].sort((a, b) => collator.compare(a.agent.name, b.agent.name));
    agentsBody.append(...rowsSorted.map((r) => r.node));
    applyFilter();
  }
}

function applySnapshot(snap, full) {
  board.skew = Date.now() / 1000 - snap.at;
  if (snap.queues) applyQueues(snap.queues, snap.at);
  if (full && snap.queues) {  // queues gone since
    const ids = new Set(snap.queues.map((q) => q.id));
    for (const [id, tile] of board.queues) if (!ids.has(id)) { tile.node.remove(); board.queues.delete(id); }
  }
  if (snap.agents) applyAgents(snap.agents, snap.at);
  if (full && snap.agents) {
    const ids = new Set(snap.agents.map((a) => a.id));
    for (const [id, r] of board.agents) {
      if (!ids.has(id)) { rowsInView.unobserve(r.node); r.node.remove(); board.agents.delete(id); }
    }
  }
  if (snap.trend) { board.trend = snap.trend; chart.draw(snap.trend, snap.at); }
  lastUpdate = Date.now();
}

async function resync() {
  const snap = await api.get("/wallboard");
  dirty.queues.clear(); dirty.agents.clear(); dirty.since = null;
  applySnapshot(snap, true);
  $("#wb-empty").hidden = board.queues.size > 0;
}

// ------------------------------------------------------------------ events
function markDirty(ev) {
  if (dirty.since === null || ev.at < dirty.since) dirty.since = ev.at;
  for (const q of [ev.queue_id, ev.to_queue]) if (q) dirty.queues.add(q);
  if (ev.interaction_id) {  // events without a queue: the contact's queue as last seen
    if (ev.queue_id || ev.to_queue) board.contactQueue.set(ev.interaction_id, ev.to_queue || ev.queue_id);
    else if (board.contactQueue.has(ev.interaction_id)) dirty.queues.add(board.contactQueue.get(ev.interaction_id));
    if (CLOSING.has(ev.kind)) board.contactQueue.delete(ev.interaction_id);
  }
  if (ev.agent_id) dirty.agents.add(ev.agent_id);
  if (ev.to_agent) dirty.agents.add(ev.to_agent);
  if (ev.kind === "agent_updated" || ev.kind === "agent_state") {
    // queue membership or presence counts: the agent's queues (all, for a new agent)
    const r = board.agents.get(ev.agent_id);
    for (const q of r ? r.agent.queues : board.queues.keys()) dirty.queues.add(q);
  }
}

function applyAgentState(ev) {
  const r = board.agents.get(ev.agent_id);
  if (!r) return;
  const old = r.agent;
  const p = presence(ev.status, ev.state);
  const agent = { ...old, status: ev.status, reason: ev.reason || null, state: ev.state, presence: p, since: ev.at };
  board.stateAt.set(ev.agent_id, ev.at);
  if (old.presence !== p) {
    for (const qid of old.queues) {
      const tile = board.queues.get(qid);
      if (!tile) continue;
      const counts = { ...tile.row.agents };
      counts[old.presence] = Math.max(0, (counts[old.presence] || 0) - 1);
      counts[p] = (counts[p] || 0) + 1;
      tile.row = { ...tile.row, agents: counts };
      tile.presence(counts);
    }
  }
  r.update(agent, serverNow());
}

// The feed hands over a batch per animation frame; the board applies them at
// most every FLUSH_MS (a frame's style, layout and paint then serve many
// events), well within the second a wallboard has.
let pendingEvents = [], flushTimer = 0, lastFlush = 0;

function onEvents(batch) {
  for (const ev of batch) pendingEvents.push(ev);
  if (flushTimer) return;
  const wait = lastFlush + FLUSH_MS - Date.now();
  if (wait <= 0) flush();  // already in the feed's animation frame
  else flushTimer = setTimeout(() => requestAnimationFrame(flush), wait);
}

function flush() {
  flushTimer = 0;
  lastFlush = Date.now();
  const batch = pendingEvents;
  pendingEvents = [];
  timed("events", () => applyEvents(batch));
}

function applyEvents(batch) {
  for (const ev of batch) {
    if (ev.kind === "agent_state") applyAgentState(ev);
    markDirty(ev);
  }
  // the frame's DOM writes are done: what each event said outright is shown
  const now = Date.now();
  for (const ev of batch) stats.eventLatencies.push(now - ev.at * 1000);
  stats.events += batch.length;
  lastUpdate = now;
  applyFilter(true);
  scheduleRefresh();
}

// ------------------------------------------------------------------ partial refreshes
function scheduleRefresh() {
  if (refreshTimer || inFlight || (!dirty.queues.size && !dirty.agents.size)) return;
  const wait = Math.max(0, lastRefresh + REFRESH_MS - Date.now());
  refreshTimer = setTimeout(refresh, wait);
}

async function refresh() {
  refreshTimer = 0;
  const queues = [...dirty.queues], agents = [...dirty.agents], since = dirty.since;
  dirty.queues.clear(); dirty.agents.clear(); dirty.since = null;
  if (!queues.length && !agents.length) return;
  const include = [];
  if (queues.length) include.push("queues", "trend");
  if (agents.length) include.push("agents");
  const query = { include: include.join(",") };
  if (queues.length) query.queues = queues.join(",");
  if (agents.length && agents.length <= MAX_AGENT_IDS) query.agents = agents.join(",");
  inFlight = true;
  lastRefresh = Date.now();
  try {
    const snap = await api.get("/wallboard", query);
    await new Promise((done) => requestAnimationFrame(done));  // write in a frame
    timed("refresh", () => applySnapshot(snap, false));
    stats.refreshes += 1;
    if (since !== null) stats.figureLatencies.push(Date.now() - since * 1000);
  } catch (err) {
    for (const q of queues) dirty.queues.add(q);
    for (const a of agents) dirty.agents.add(a);
    if (dirty.since === null || (since !== null && since < dirty.since)) dirty.since = since;
    if (err.status !== 401) console.warn("wallboard refresh failed", err);
  } finally {
    inFlight = false;
    scheduleRefresh();
  }
}

// ------------------------------------------------------------------ ticking, filter
function tick() {
  const now = serverNow();
  for (const tile of board.queues.values()) tile.tick(now);
  for (const r of board.agents.values()) if (r.visible) r.tick(now);
  if (board.trend) chart.draw(board.trend, now);
  const ago = lastUpdate ? Math.round((Date.now() - lastUpdate) / 1000) : null;
  const updated = $("#wb-updated");
  const text = ago === null ? "" : (ago < 2 ? t("Updated just now") : t("Updated {n} s ago", { n: ago }));
  if (updated.textContent !== text) updated.textContent = text;
}

const presenceFilter = $("#wb-presence-filter");
const search = $("#wb-search");
let filterKey = "";

function applyFilter(onlyIfActive = false) {
  const want = presenceFilter.value, q = search.value.trim().toLowerCase();
  if (onlyIfActive && !want && !q && !filterKey) return;
  filterKey = want || q ? `${want}|${q}` : "";
  let shown = 0;
  for (const r of board.agents.values()) {
    const hide = (want && r.agent.presence !== want) || (q && !r.agent.name.toLowerCase().includes(q));
    if (r.node.hidden !== Boolean(hide)) r.node.hidden = Boolean(hide);
    if (!hide) shown += 1;
  }
  const text = t("{shown} of {total} agents", { shown, total: board.agents.size });
  const count = $("#wb-agent-count");
  if (count.textContent !== text) count.textContent = text;
}

// Metric definitions for keyboard users: a focused metric name shows its
// tooltip (the `title` a mouse shows on hover) in one floating element.
const tip = el("div", { id: "wb-tip", class: "wb-tip", role: "tooltip", hidden: true });
document.body.append(tip);
document.addEventListener("focusin", (e) => {
  const name = e.target.closest && e.target.closest(".metric-name[title]");
  if (!name) { tip.hidden = true; return; }
  tip.textContent = name.getAttribute("title");
  const r = name.getBoundingClientRect();
  tip.hidden = false;
  tip.style.left = `${Math.max(4, Math.min(r.left, window.innerWidth - tip.offsetWidth - 4))}px`;
  tip.style.top = `${r.bottom + 4}px`;
});
document.addEventListener("focusout", () => { tip.hidden = true; });
document.addEventListener("keydown", (e) => { if (e.key === "Escape") tip.hidden = true; });
window.addEventListener("scroll", () => { tip.hidden = true; }, { passive: true, capture: true });

presenceFilter.addEventListener("change", () => applyFilter());
search.addEventListener("input", () => applyFilter());

// ------------------------------------------------------------------ start
window.__wallboard = {
  live: () => board.live,
  stats: () => ({ events: stats.events, refreshes: stats.refreshes, work: stats.work,
    eventLatencies: stats.eventLatencies.values, figureLatencies: stats.figureLatencies.values }),
  resetStats: () => {
    stats.events = 0; stats.refreshes = 0; stats.work = {};
    stats.eventLatencies.reset(); stats.figureLatencies.reset();
  },
  figures: () => ({
    queues: Object.fromEntries([...board.queues.values()].map((q) => [q.id, q.row.today])),
    trend: board.trend ? board.trend.rows : [],
  }),
};

await ready;
const feed = new Feed({
  resync,
  onEvents,
  onStatus: (status) => {
    feedIndicator($("#wb-feed"))(status);
    board.live = status === "live";
  },
});
try {
  feed.start();
} catch (err) {
  toastError(err);
}
setInterval(() => requestAnimationFrame(() => timed("tick", tick)), 1000);
