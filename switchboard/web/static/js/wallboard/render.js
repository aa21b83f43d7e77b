// The wallboard's DOM: one tile per queue, one table row per agent. Each is
// built once and then updated in place, writing only what changed (a text,
// a data attribute), so a burst of events costs a few writes, not a rebuild.

import { formatDuration, formatNumber, formatPercent, metric, t } from "../i18n.js";
import { el } from "../ui.js";
import { level, PRESENCES } from "./model.js";

/** Translated words for the board's codes (literal t() calls, for extraction). */
export const words = {
  presence: () => ({
    available: t("Available"), reserved: t("Ringing"), busy: t("Busy"), wrapup: t("Wrap-up"),
    not_ready: t("Not ready"), offline: t("Logged out"),
  }),
  status: () => ({ ready: t("Ready"), not_ready: t("Not ready"), offline: t("Logged out") }),
  channel: () => ({ voice: t("Voice"), chat: t("Chat"), email: t("E-mail"), sms: t("SMS") }),
  level: () => ({ amber: t("Amber"), red: t("Red"), ok: t("Within threshold") }),
};

const LEVEL_ICON = { amber: "▲", red: "●", ok: "✓" };
const TILE_FIGURES = ["waiting", "longest_wait_s", "service_level", "asa_s", "abandon_rate"];

/** A metric's label for a small tile: its name before any "(...)", the full
 * name and the one-line definition in the tooltip. */
function shortLabel(key) {
  const m = metric(key);
  const short = m.name.split(" (")[0];
  return el("span", { class: "metric-name", tabindex: "0", title: `${m.name}: ${m.definition}`,
    "aria-description": m.definition }, short);
}

function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

function setAttr(node, name, value) {
  if (node.getAttribute(name) !== value) node.setAttribute(name, value);
}

function setData(node, key, value) {
  const v = value === null || value === undefined ? "" : String(value);
  if (node.dataset[key] !== v) node.dataset[key] = v;
}

function figureText(figure, value) {
  if (figure === "service_level" || figure === "abandon_rate") return formatPercent(value);
  if (figure === "asa_s" || figure === "longest_wait_s") return formatDuration(value);
  return formatNumber(value);
}

function boundsText(figure, bounds) {
  if (!bounds) return "";
  const parts = [];
  if (bounds.amber !== undefined) parts.push(t("amber {value}", { value: figureText(figure, bounds.amber) }));
  if (bounds.red !== undefined) parts.push(t("red {value}", { value: figureText(figure, bounds.red) }));
  return parts.join(", ");
}

/** One queue's tile. `onManage(queueId)` opens its dialog. */
export class QueueTile {
  constructor(row, onManage) {
    this.id = row.id;
    this.figs = {};
    const name = el("h3", { id: `wbq-${row.id}`, class: "wb-queue-name" });
    this.name = name;
    this.manage = el("button", { type: "button", class: "button small", onclick: () => onManage(this.id) }, t("Manage"));
    const figs = el("dl", { class: "wb-figs" });
    for (const f of TILE_FIGURES) {
      const value = el("span", { class: "figure" });
      const badge = el("span", { class: "wb-level" });
      const box = el("div", { class: "wb-fig", dataset: { figure: f } },
        el("dt", {}, shortLabel(f)), el("dd", {}, value, badge));
      this.figs[f] = { box, value, badge };
      figs.append(box);
    }
    this.offered = el("span", { class: "figure" });
    figs.append(el("div", { class: "wb-fig", dataset: { figure: "offered" } },
      el("dt", {}, shortLabel("offered"), " / ", shortLabel("answered")),
      el("dd", {}, this.offered)));
    this.bar = el("div", { class: "wb-bar", "aria-hidden": "true" },
      ...PRESENCES.map((p) => el("span", { class: `seg p-${p}` })));
    this.counts = el("p", { class: "wb-counts" });
    this.node = el("article", { class: "wb-queue card", role: "listitem", "aria-labelledby": name.id, dataset: { queue: row.id } },
      el("header", { class: "wb-queue-head" }, name, this.manage), figs, this.bar, this.counts);
    this.row = null;
    this.update(row, Date.now() / 1000);
  }

  /** Show `row` (a GET /wallboard queue); `now` in server seconds for the live wait. */
  update(row, now) {
    const old = this.row;
    this.row = row;
    setText(this.name, row.name);
    if (!old || old.name !== row.name) {
      setAttr(this.manage, "aria-label", t("Manage queue {name}", { name: row.name }));
    }
    this.tick(now);
    const values = { waiting: row.waiting, service_level: row.today.service_level,
      asa_s: row.today.asa_s, abandon_rate: row.today.abandon_rate };
    for (const [f, v] of Object.entries(values)) this.show(f, v, row.levels[f]);
    setText(this.offered, `${formatNumber(row.today.offered)} / ${formatNumber(row.today.answered)}`);
    setData(this.offered, "offered", row.today.offered);
    setData(this.offered, "answered", row.today.answered);
    this.presence(row.agents);
  }

  /** The longest wait ticks between snapshots (its level with it). */
  tick(now) {
    const row = this.row;
    const wait = row.oldest_enqueued_at === null ? 0 : Math.max(0, now - row.oldest_enqueued_at);
    this.show("longest_wait_s", wait, level("longest_wait_s", wait, row.thresholds.longest_wait_s));
  }

  show(figure, value, lvl) {
    const f = this.figs[figure];
    setText(f.value, figureText(figure, value));
    setData(f.value, "value", value === null ? "" : (figure === "longest_wait_s" ? Math.floor(value) : value));
    setData(f.box, "level", lvl || "");
    const bounds = this.row.thresholds[figure];
    const text = lvl ? `${LEVEL_ICON[lvl]} ${words.level()[lvl]}` : "";
    if (f.badge.dataset.text !== text) {
      f.badge.dataset.text = text;
      f.badge.title = lvl ? t("Thresholds: {bounds}", { bounds: boundsText(figure, bounds) }) : "";
      if (lvl === "ok") {
        // Within threshold: the icon beside the figure; the words for screen
        // readers and the tooltip (a word under every figure of 20 tiles
        // crowded the board). Amber and red keep icon and word in sight.
        f.badge.replaceChildren(el("span", { "aria-hidden": "true" }, LEVEL_ICON.ok),
          el("span", { class: "visually-hidden" }, words.level().ok));
        f.badge.title = `${words.level().ok}. ${f.badge.title}`;
      } else {
        f.badge.textContent = text;
      }
    }
  }

  presence(counts) {
    const total = PRESENCES.reduce((a, p) => a + (counts[p] || 0), 0);
    PRESENCES.forEach((p, i) => {
      const w = total ? `${(100 * (counts[p] || 0)) / total}%` : "0%";
      const seg = this.bar.children[i];
      if (seg.style.width !== w) seg.style.width = w;
    });
    const names = words.presence();
    const shown = PRESENCES.filter((p) => p !== "offline" && (counts[p] || p === "available"))
      .map((p) => `${formatNumber(counts[p] || 0)} ${names[p]}`);
    setText(this.counts, shown.join(" · "));
    setData(this.counts, "counts", PRESENCES.map((p) => counts[p] || 0).join(","));
  }
}

/** One agent's table row. `onManage(agentId)` opens its dialog. */
export class AgentRow {
  constructor(agent, queueName, onManage) {
    this.id = agent.id;
    this.queueName = queueName;
    const cell = (cls, role = "cell") => el("span", { role, class: `wb-cell ${cls}` });
    this.cells = {
      name: cell("name", "rowheader"),
      presence: el("span", { class: "badge" }),
      status: cell("status"),
      time: cell("num time"),
      contact: cell("contact"),
      queues: cell("num queues"),
    };
    this.manage = el("button", { type: "button", class: "button small", onclick: () => onManage(this.id) }, t("Manage"));
    // A row of the ARIA table (role=row); off-screen rows are not laid out or
    // painted at all (content-visibility in wallboard.css): 200 rows cost what
    // the dozen on screen cost.
    this.node = el("div", { role: "row", class: "wb-row", dataset: { agent: agent.id } }, this.cells.name,
      el("span", { role: "cell", class: "wb-cell" }, this.cells.presence),
      this.cells.status, this.cells.time, this.cells.contact, this.cells.queues,
      el("span", { role: "cell", class: "wb-cell" }, this.manage));
    this.agent = null;
    this.visible = true;  // ticks only while on screen (see main.js)
    this.update(agent, Date.now() / 1000);
  }

  update(agent, now) {
    const old = this.agent;
    this.agent = agent;
    const c = this.cells;
    setText(c.name, agent.name);
    if (!old || old.name !== agent.name) {
      setAttr(this.manage, "aria-label", t("Manage agent {name}", { name: agent.name }));
    }
    setText(c.presence, words.presence()[agent.presence] || agent.presence);
    setData(this.node, "presence", agent.presence);
    setData(c.presence, "presence", agent.presence);
    const status = words.status()[agent.status] || agent.status;
    const statusText = agent.reason ? `${status} · ${agent.reason}` : status;
    setText(c.status, statusText);
    setAttr(c.status, "title", statusText);
    setAttr(c.presence, "title", c.presence.textContent);
    setData(c.status, "status", agent.status);
    const k = agent.contact;
    const contact = k ? [this.queueName(k.queue), words.channel()[k.channel] || k.channel, k.customer]
      .filter(Boolean).join(" · ") : "—";
    setText(c.contact, contact);
    setAttr(c.contact, "title", k ? contact : "");
    setData(c.contact, "contact", k ? k.id : "");
    if (!old || old.queues.join() !== agent.queues.join()) {
      setText(c.queues, formatNumber(agent.queues.length));
      setAttr(c.queues, "title", agent.queues.map(this.queueName).join(", "));
    }
    if (this.visible) this.tick(now);
  }

  tick(now) {
    const since = this.agent.since;
    setText(this.cells.time, since === null ? "—" : formatDuration(Math.max(0, now - since)));
  }
}
