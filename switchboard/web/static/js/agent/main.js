// The agent desktop: status, offers (screen pop), contacts with chat, wrap-up,
// the day's contacts. State comes from REST (on load and on every feed
// reconnection) and is kept current by the feed's events.

import { api, ApiError } from "../api.js";
import { Feed } from "../feed.js";
import { formatDuration, ready, t, tn } from "../i18n.js";
import { $, clearFieldErrors, el, feedIndicator, replace, showFieldErrors, toast, toastError } from "../ui.js";
import { customerCard, customerName, messageView, offerView, TEXT_CHANNELS, todayRow } from "./views.js";
import { AGENT_STATE, CHANNEL, CONTACT_STATE, STATUS, word } from "./words.js";

await ready;

const root = $("#desktop");
const me = root.dataset.agent;
const tz = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

const state = {
  agent: null,
  statusSince: null,
  stateSince: null,
  reasons: [],
  dispositions: [],
  queues: [],
  directory: [],
  cards: new Map(),      // interaction id -> card (GET /interactions/{id}/card)
  messages: new Map(),   // interaction id -> [message]
  unread: new Map(),
  panels: new Map(),     // interaction id -> {root, parts}
  selected: null,
  today: [],
  offset: null,          // server clock - local clock, seconds (from the events' times)
};

const now = () => Date.now() / 1000 + (state.offset ?? 0);

// ------------------------------------------------------------------ loading
async function loadCodes() {
  const quiet = async (path) => {
    try { return await api.get(path); } catch (err) {
      if (err instanceof ApiError && [403, 404].includes(err.status)) return [];
      throw err;
    }
  };
  const [reasons, dispositions, queues] = await Promise.all([
    quiet("/reason-codes"), quiet("/dispositions"), api.get("/queues")]);
  state.reasons = reasons;
  state.dispositions = dispositions;
  state.queues = queues;
  renderReasons();
}

async function loadAgent() {
  const day = await api.get(`/agents/${encodeURIComponent(me)}/today`, { tz });
  state.agent = day.agent;
  state.statusSince = day.status_since;
  state.stateSince = day.state_since;
  state.today = day.contacts;
  return day;
}

function liveIds() {
  const a = state.agent;
  return a ? [...new Set([...a.offers, ...a.contacts, ...a.wrapups])] : [];
}

async function loadContact(id) {
  let card;
  try {
    card = await api.get(`/interactions/${encodeURIComponent(id)}/card`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) { dropContact(id); return; }
    throw err;
  }
  state.cards.set(id, card);
  if (TEXT_CHANNELS.has(card.interaction.channel)) {
    state.messages.set(id, await api.get(`/interactions/${encodeURIComponent(id)}/messages`));
  }
}

function dropContact(id) {
  state.cards.delete(id);
  state.messages.delete(id);
  state.unread.delete(id);
  const panel = state.panels.get(id);
  if (panel) panel.root.remove();
  state.panels.delete(id);
  if (state.selected === id) state.selected = null;
}

async function resync() {
  await loadCodes();
  await loadAgent();
  const ids = liveIds();
  for (const id of [...state.cards.keys()]) if (!ids.includes(id)) dropContact(id);
  await Promise.all(ids.map(loadContact));
  renderAll();
  root.setAttribute("aria-busy", "false");
  root.dataset.loaded = "1";
}

// Refreshes run one after another, so answers never apply out of order.
let chain = Promise.resolve();
function serial(fn) {
  chain = chain.then(fn).catch(toastError);
  return chain;
}

// ------------------------------------------------------------------ events
const AGENT_KINDS = new Set(["offered", "offer_timeout", "offer_rejected", "offer_withdrawn",
  "answered", "ended", "wrapup_ended", "transferred", "abandoned", "transfer_started",
  "transfer_cancelled", "conference_joined", "conference_left", "exited"]);

function onEvents(batch) {
  const touched = new Set();
  let agentChanged = false;
  for (const ev of batch) {
    const skew = ev.at - Date.now() / 1000;
    state.offset = state.offset === null ? skew : Math.max(state.offset, skew);
    if (ev.kind === "message") {
      addMessage(ev.interaction_id, ev.message);
      continue;
    }
    if (ev.kind === "agent_state" && ev.agent_id === me && state.agent) {
      const a = state.agent;
      if (a.status !== ev.status || (a.reason || null) !== (ev.reason || null)) state.statusSince = ev.at;
      if (a.state !== ev.state) state.stateSince = ev.at;
      Object.assign(a, { status: ev.status, reason: ev.reason || null, state: ev.state });
      agentChanged = true;
      continue;
    }
    if (ev.interaction_id) touched.add(ev.interaction_id);
    if (AGENT_KINDS.has(ev.kind)) agentChanged = true;
  }
  renderStatus();
  if (!touched.size && !agentChanged) return;
  serial(async () => {
    if (agentChanged) await loadAgent();
    const ids = liveIds();
    for (const id of [...state.cards.keys()]) if (!ids.includes(id)) dropContact(id);
    const load = new Set([...touched].filter((id) => ids.includes(id)));
    for (const id of ids) if (!state.cards.has(id)) load.add(id);
    await Promise.all([...load].map(loadContact));
    renderAll();
  });
}

function addMessage(id, msg) {
  const list = state.messages.get(id);
  if (!list || list.some((m) => m.id === msg.id)) return;
  list.push(msg);
  if (msg.sender !== "agent" && (state.selected !== id || document.hidden)) {
    state.unread.set(id, (state.unread.get(id) || 0) + 1);
  }
  const panel = state.panels.get(id);
  if (panel) appendMessage(panel, msg);
  renderTabs();
}

// ------------------------------------------------------------------ actions
async function act(promise, after) {
  try {
    const out = await promise;
    if (after) await after(out);
    return out;
  } catch (err) {
    toastError(err);
    return null;
  }
}

function setStatus(status) {
  const reason = status === "not_ready" ? ($("#reason").value || null) : null;
  return act(api.post(`/agents/${encodeURIComponent(me)}/status`, { status, reason }), (agent) => {
    const before = state.agent;
    if (before && (before.status !== agent.status || (before.reason || null) !== (agent.reason || null))) {
      state.statusSince = now();
    }
    state.agent = { ...before, ...agent };
    renderStatus();
  });
}

async function accept(id) {
  await act(api.post(`/interactions/${encodeURIComponent(id)}/accept`, {}), () => serial(async () => {
    await loadAgent();
    await loadContact(id);
    state.selected = id;
    renderAll();
    const panel = state.panels.get(id);
    const box = panel && panel.root.querySelector("textarea[name=message]");
    if (box) box.focus();
  }));
}

const reject = (id) => act(api.post(`/interactions/${encodeURIComponent(id)}/reject`, {}),
  () => serial(async () => { await loadAgent(); dropContact(id); renderAll(); }));

const command = (id, verb, body = {}) => act(
  api.post(`/interactions/${encodeURIComponent(id)}/${verb}`, body),
  () => serial(async () => { await loadAgent(); await loadContact(id); renderAll(); }));

async function send(id, form) {
  const box = form.elements.message;
  const text = box.value.trim();
  clearFieldErrors(form);
  if (!text) { showFieldErrors(form, { message: t("Write a message first.") }); return; }
  try {
    const msg = await api.post(`/interactions/${encodeURIComponent(id)}/messages`, { text });
    box.value = "";
    addMessage(id, msg);
    box.focus();
  } catch (err) {
    if (err instanceof ApiError && err.field === "text") showFieldErrors(form, { message: err.message });
    else toastError(err);
  }
}

async function transfer(id, form) {
  const target = form.elements.target.value;
  clearFieldErrors(form);
  if (!target) { showFieldErrors(form, { target: t("Choose an agent or a queue.") }); return; }
  const [kind, ref] = target.split(":");
  const body = kind === "agent" ? { to_agent: ref } : { to_queue: ref };
  try {
    await api.post(`/interactions/${encodeURIComponent(id)}/transfer`, body);
    toast(t("Contact transferred."), { kind: "success" });
    serial(async () => { await loadAgent(); dropContact(id); renderAll(); });
  } catch (err) {
    if (err instanceof ApiError) showFieldErrors(form, { [err.field === "to_agent" || err.field === "to_queue" ? "target" : ""]: err.message });
    else toastError(err);
  }
}

async function wrapup(id, form) {
  clearFieldErrors(form);
  const disposition = form.elements.disposition.value || null;
  const notes = form.elements.notes.value.trim() || null;
  if (state.dispositions.length && !disposition) {
    showFieldErrors(form, { disposition: t("Choose a disposition.") });
    return;
  }
  try {
    await api.post(`/interactions/${encodeURIComponent(id)}/wrapup`, { disposition, notes });
    toast(t("Wrap-up saved."), { kind: "success" });
    serial(async () => { await loadAgent(); dropContact(id); renderAll(); });
  } catch (err) {
    if (err instanceof ApiError && err.field) showFieldErrors(form, err);
    else toastError(err);
  }
}

// ------------------------------------------------------------------ rendering
function renderAll() {
  renderStatus();
  renderOffers();
  renderTabs();
  renderPanels();
  renderToday();
}

function renderReasons() {
  const select = $("#reason");
  const current = select.value;
  const options = state.reasons.length
    ? state.reasons.map((r) => el("option", { value: r.code, "data-i18n-skip": true }, r.label || r.code))
    : [el("option", { value: "break" }, t("Break"))];  // a tenant without reason codes
  replace(select, options);
  if (current && state.reasons.some((r) => r.code === current)) select.value = current;
}

function renderStatus() {
  const a = state.agent;
  if (!a) return;
  $("#agent-name").textContent = a.name;
  const status = $("#status-badge");
  const label = word(STATUS, a.status);
  const reason = a.status === "not_ready" && a.reason
    ? (state.reasons.find((r) => r.code === a.reason)?.label || a.reason) : null;
  status.textContent = reason ? `${label}: ${reason}` : label;
  status.className = `badge ${a.status === "ready" ? "ok" : a.status === "not_ready" ? "warn" : ""}`;
  status.dataset.status = a.status;
  const st = $("#state-badge");
  st.textContent = word(AGENT_STATE, a.state);
  st.dataset.state = a.state;
  st.hidden = a.status === "offline" && a.state === "idle";
  $("#go-ready").disabled = a.status === "ready";
  $("#go-offline").disabled = a.status === "offline";
  const used = a.contacts.length + a.wrapups.length;
  const max = (a.capacity && a.capacity.chat) || 0;
  $("#capacity").textContent = max ? t("Chats: {used} of {max}", { used, max }) : "";
  tick();
}

function renderOffers() {
  const box = $("#offers");
  const ids = state.agent ? state.agent.offers.filter((id) => state.cards.has(id)) : [];
  const shown = new Set([...box.querySelectorAll("[data-offer]")].map((n) => n.dataset.offer));
  for (const node of [...box.children]) if (!ids.includes(node.dataset.offer)) node.remove();
  for (const id of ids) {
    if (shown.has(id)) continue;
    box.append(offerView(state.cards.get(id), now(), { onAccept: accept, onReject: reject }));
    const active = document.activeElement;
    if (!active || active === document.body || !active.matches("input, textarea, select")) {
      box.querySelector(`[data-accept="${CSS.escape(id)}"]`)?.focus();
    }
  }
}

function contactIds() {
  const a = state.agent;
  return a ? [...a.contacts, ...a.wrapups].filter((id, i, all) => all.indexOf(id) === i && state.cards.has(id)) : [];
}

function renderTabs() {
  const ids = contactIds();
  if (!ids.includes(state.selected)) state.selected = ids[0] || null;
  const tabs = ids.map((id) => {
    const card = state.cards.get(id);
    const unread = state.unread.get(id) || 0;
    return el("button", {
      type: "button", role: "tab", class: "contact-tab", id: `tab-${id}`, "data-tab": id,
      "aria-selected": String(id === state.selected), "aria-controls": `panel-${id}`,
      tabindex: id === state.selected ? "0" : "-1",
      onclick: () => select(id), onkeydown: (ev) => tabKeys(ev, ids, id),
    },
    el("span", {}, word(CHANNEL, card.interaction.channel)),
    el("span", { "data-i18n-skip": true }, customerName(card)),
    el("span", { class: "badge" }, word(CONTACT_STATE, card.interaction.state)),
    unread ? el("span", { class: "unread", "aria-label": tn("{n} unread message", "{n} unread messages", unread) }, String(unread)) : null);
  });
  replace($("#contact-tabs"), tabs);
}

function tabKeys(ev, ids, id) {
  const i = ids.indexOf(id);
  const next = ev.key === "ArrowRight" ? ids[(i + 1) % ids.length]
    : ev.key === "ArrowLeft" ? ids[(i - 1 + ids.length) % ids.length] : null;
  if (!next) return;
  ev.preventDefault();
  select(next);
  document.getElementById(`tab-${next}`)?.focus();
}

function select(id) {
  state.selected = id;
  state.unread.delete(id);
  renderTabs();
  renderPanels();
}

function renderPanels() {
  const container = $("#contact-panel");
  const ids = contactIds();
  const empty = container.querySelector(".empty");
  if (empty) empty.hidden = ids.length > 0;
  for (const id of ids) {
    let panel = state.panels.get(id);
    if (!panel) {
      panel = buildPanel(id);
      state.panels.set(id, panel);
      container.append(panel.root);
    }
    updatePanel(id, panel);
    panel.root.hidden = id !== state.selected;
  }
  if (state.selected) container.setAttribute("aria-labelledby", `tab-${state.selected}`);
}

function buildPanel(id) {
  const card = state.cards.get(id);
  const rootNode = el("div", { class: "contact", id: `panel-${id}`, "data-contact": id });
  const head = el("div", { class: "contact-head" });
  const cardBox = el("div", { class: "card-box" });
  const controls = el("div", { class: "controls", role: "group", "aria-label": t("Contact actions") });
  const transcript = TEXT_CHANNELS.has(card.interaction.channel)
    ? el("ol", { class: "transcript", "aria-label": t("Transcript"), "aria-live": "polite", tabindex: "0" }) : null;
  const composer = transcript ? el("form", { class: "composer", novalidate: true, onsubmit: (ev) => { ev.preventDefault(); send(id, composer); } },
    el("label", { class: "visually-hidden", for: `msg-${id}` }, t("Message")),
    el("textarea", { id: `msg-${id}`, name: "message", rows: "2", maxlength: "4000", placeholder: t("Write to the customer…"),
      onkeydown: (ev) => { if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); send(id, composer); } } }),
    el("button", { type: "submit", class: "button primary" }, t("Send"))) : null;
  const wrap = el("div", { class: "wrapup-box" });
  rootNode.append(head, controls, transcript || "", composer || "", wrap, cardBox);
  const panel = { root: rootNode, head, cardBox, controls, transcript, composer, wrap, rendered: {} };
  for (const msg of state.messages.get(id) || []) appendMessage(panel, msg);
  return panel;
}

function appendMessage(panel, msg) {
  if (!panel.transcript || panel.transcript.querySelector(`[data-message="${CSS.escape(msg.id)}"]`)) return;
  panel.transcript.append(messageView(msg, me));
  panel.transcript.scrollTop = panel.transcript.scrollHeight;
}

function updatePanel(id, panel) {
  const card = state.cards.get(id);
  const it = card.interaction;
  const key = JSON.stringify([it.state, card.wrapup_until, state.dispositions.length, card.history.length]);
  replace(panel.head,
    el("h3", {}, el("span", { "data-i18n-skip": true }, customerName(card)), " · ", word(CHANNEL, it.channel)),
    el("span", { class: "badge", "data-contact-state": it.state }, word(CONTACT_STATE, it.state)));
  if (panel.rendered.key === key) return;
  panel.rendered.key = key;
  replace(panel.cardBox, customerCard(card, now()));
  const buttons = [];
  if (it.state === "connected") buttons.push(el("button", { type: "button", class: "button", "data-action": "hold", onclick: () => command(id, "hold") }, t("Hold")));
  if (it.state === "held") buttons.push(el("button", { type: "button", class: "button", "data-action": "resume", onclick: () => command(id, "resume") }, t("Resume")));
  if (it.state === "connected" || it.state === "held") {
    buttons.push(transferForm(id));
    buttons.push(el("button", { type: "button", class: "button danger", "data-action": "end", onclick: () => command(id, "end") }, t("End")));
  }
  replace(panel.controls, buttons);
  if (panel.composer) {
    const open = it.state === "connected";
    for (const node of panel.composer.elements) node.disabled = !open;
  }
  replace(panel.wrap, it.state === "wrapup" ? wrapupForm(id, card) : null);
}

function transferForm(id) {
  const select = el("select", { name: "target", id: `target-${id}`, "aria-label": t("Transfer to") },
    el("option", { value: "" }, t("Transfer to…")),
    el("optgroup", { label: t("Queues") }, state.queues.map((q) => el("option", { value: `queue:${q.id}`, "data-i18n-skip": true }, q.name))),
    el("optgroup", { label: t("Agents") }, state.directory.filter((a) => a.id !== me).map((a) =>
      el("option", { value: `agent:${a.id}`, "data-i18n-skip": true }, `${a.name} (${word(STATUS, a.status)})`))));
  select.addEventListener("focus", refreshDirectory, { once: true });
  const form = el("form", { class: "row transfer", novalidate: true, onsubmit: (ev) => { ev.preventDefault(); transfer(id, form); } },
    el("span", { class: "field inline" }, select),
    el("button", { type: "submit", class: "button" }, t("Transfer")));
  return form;
}

async function refreshDirectory() {
  try {
    state.directory = await api.get("/directory/agents");
  } catch (err) {
    toastError(err);
    return;
  }
  for (const select of document.querySelectorAll("select[name=target]")) {
    const group = select.querySelector(`optgroup[label="${CSS.escape(t("Agents"))}"]`);
    if (!group) continue;
    const value = select.value;
    replace(group, state.directory.filter((a) => a.id !== me).map((a) =>
      el("option", { value: `agent:${a.id}`, "data-i18n-skip": true }, `${a.name} (${word(STATUS, a.status)})`)));
    select.value = value;
  }
}

function wrapupForm(id, card) {
  const options = state.dispositions.length
    ? [el("option", { value: "" }, t("Choose…")), ...state.dispositions.map((d) => el("option", { value: d.code, "data-i18n-skip": true }, d.label || d.code))]
    : [el("option", { value: "" }, t("No disposition"))];
  const form = el("form", { class: "wrapup-form", novalidate: true, "aria-labelledby": `wrap-${id}`, onsubmit: (ev) => { ev.preventDefault(); wrapup(id, form); } },
    el("div", { class: "row spread" },
      el("h3", { id: `wrap-${id}` }, t("Wrap-up")),
      card.wrapup_until ? el("span", {}, t("Time left"), " ", el("span", { class: "countdown", "data-wrapup": id, role: "timer" }, formatDuration(card.wrapup_until - now()))) : null),
    el("p", { class: "form-error", role: "alert", hidden: true }),
    el("div", { class: "fields" },
      el("div", { class: "field" },
        el("label", { for: `disp-${id}` }, t("Disposition")),
        el("select", { id: `disp-${id}`, name: "disposition", required: state.dispositions.length ? true : null }, options)),
      el("div", { class: "field" },
        el("label", { for: `notes-${id}` }, t("Notes")),
        el("textarea", { id: `notes-${id}`, name: "notes", rows: "2", maxlength: "4000" }))),
    el("button", { type: "submit", class: "button primary" }, t("Finish wrap-up")));
  return form;
}

function renderToday() {
  const rows = state.today.map(todayRow);
  replace($("#today tbody"), rows.length ? rows : [el("tr", {}, el("td", { colspan: "5", class: "muted" }, t("No contact yet today.")))]);
  $("#today-summary").textContent = tn("{n} contact answered today", "{n} contacts answered today", state.today.length);
}

// Clocks: time in status, ring and wrap-up countdowns, waits (twice a second).
function tick() {
  const n = now();
  $("#status-timer").textContent = state.statusSince ? formatDuration(n - state.statusSince) : "—";
  for (const node of document.querySelectorAll("[data-ring]")) {
    const card = state.cards.get(node.dataset.ring);
    const left = card && card.offer ? card.offer.expires_at - n : null;
    node.textContent = formatDuration(left === null ? null : Math.max(0, left));
    node.classList.toggle("low", left !== null && left < 5);
  }
  for (const node of document.querySelectorAll("[data-wrapup]")) {
    const card = state.cards.get(node.dataset.wrapup);
    if (card && card.wrapup_until) node.textContent = formatDuration(Math.max(0, card.wrapup_until - n));
  }
  for (const node of document.querySelectorAll("[data-wait]")) {
    const card = state.cards.get(node.dataset.wait);
    if (card && card.wait_s === null && card.interaction.enqueued_at) {
      node.textContent = formatDuration(n - card.interaction.enqueued_at);
    }
  }
}

// ------------------------------------------------------------------ start
if (!me) {
  replace(root, el("p", { class: "notice", role: "alert" }, t("This user is not linked to an agent: ask an administrator.")));
} else {
  $("#go-ready").addEventListener("click", () => setStatus("ready"));
  $("#go-not-ready").addEventListener("click", () => setStatus("not_ready"));
  $("#go-offline").addEventListener("click", () => setStatus("offline"));
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && state.selected) { state.unread.delete(state.selected); renderTabs(); }
  });
  setInterval(tick, 500);
  const feed = new Feed({ resync, onEvents, onStatus: feedIndicator($("#feed-status")) });
  feed.start();
  window.__agentDesktop = { state, feed };
}
