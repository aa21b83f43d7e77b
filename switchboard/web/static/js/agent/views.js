// Rendering of the agent desktop's parts (no state of its own: main.js owns it).

import { formatDuration, formatTime, t, tn } from "../i18n.js";
import { el } from "../ui.js";
import { CHANNEL, CONTACT_STATE, INCOMING, word } from "./words.js";

export const TEXT_CHANNELS = new Set(["chat", "email", "sms"]);

/** The name to show for a card's customer. */
export function customerName(card) {
  const c = card.customer;
  return (c && (c.name || c.phone || c.email)) || t("Customer");
}

function dataItem(label, value) {
  return [el("dt", {}, label), el("dd", { "data-i18n-skip": true }, value ?? "—")];
}

/** The customer's card: who, how, which queue, the wait, the IVR, the history. */
export function customerCard(card, now) {
  const c = card.customer || {};
  const wait = card.wait_s ?? (card.interaction.enqueued_at ? now - card.interaction.enqueued_at : null);
  const list = el("dl", { class: "customer-card" },
    dataItem(t("Name"), c.name),
    dataItem(t("Phone"), c.phone),
    dataItem(t("E-mail"), c.email),
    dataItem(t("Queue"), card.queue?.name),
    [el("dt", {}, t("Wait")), el("dd", { class: "figure", "data-wait": card.interaction.id }, formatDuration(wait))],
    [el("dt", {}, t("Channel")), el("dd", {}, word(CHANNEL, card.interaction.channel))]);
  const ivr = card.ivr.length
    ? el("ul", { class: "ivr-inputs" }, card.ivr.map((step) => el("li", { "data-i18n-skip": true },
      [step.step, step.digits].filter(Boolean).join(": "),
      Object.keys(step.attributes || {}).length ? ` (${attributesText(step.attributes)})` : "")))
    : el("p", { class: "muted" }, t("Nothing keyed in the IVR."));
  const attrs = Object.keys(card.attributes || {}).length
    ? el("p", { "data-i18n-skip": true }, attributesText(card.attributes)) : null;
  const history = card.history.length
    ? el("ul", { class: "history" }, card.history.map((h) => el("li", {},
      el("span", {}, formatTime(h.created_at, "datetime")), " · ",
      el("span", {}, word(CHANNEL, h.channel)), " · ",
      el("span", { "data-i18n-skip": true }, h.queue_name || h.queue || "—"), " · ",
      el("span", {}, word(CONTACT_STATE, h.state)),
      h.disposition ? el("span", { "data-i18n-skip": true }, ` · ${h.disposition}`) : null,
      h.notes ? el("span", { class: "muted", "data-i18n-skip": true }, ` — ${h.notes}`) : null)))
    : el("p", { class: "muted" }, t("No previous contact."));
  return el("div", { class: "card-body" },
    list,
    el("h3", {}, t("Keyed in the IVR")), ivr,
    attrs ? el("h3", {}, t("Details")) : null, attrs,
    el("details", { class: "more", open: card.history.length ? true : null },
      el("summary", {}, tn("{n} previous contact", "{n} previous contacts", card.history.length)),
      history));
}

function attributesText(attrs) {
  return Object.entries(attrs).map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`).join(", ");
}

/** The screen pop of an offer: title, ring countdown, card, accept and reject. */
export function offerView(card, now, { onAccept, onReject }) {
  const id = card.interaction.id;
  const left = card.offer ? card.offer.expires_at - now : null;
  const accept = el("button", { type: "button", class: "button ok", "data-accept": id, onclick: () => onAccept(id) }, t("Accept"));
  return el("article", { class: "card offer", "data-offer": id, "aria-labelledby": `offer-${id}` },
    el("header", {},
      el("h2", { id: `offer-${id}` }, word(INCOMING, card.interaction.channel), " — ",
        el("span", { "data-i18n-skip": true }, customerName(card))),
      el("span", { class: "ring", "data-ring": id, role: "timer", "aria-label": t("Time left to answer") },
        formatDuration(left))),
    customerCard(card, now),
    el("div", { class: "actions" }, accept,
      el("button", { type: "button", class: "button danger", "data-reject": id, onclick: () => onReject(id) }, t("Reject"))));
}

/** One message of a transcript. */
export function messageView(msg, myAgent) {
  const who = msg.sender === "customer" ? t("Customer")
    : msg.sender === "agent" ? (msg.agent === myAgent ? t("You") : t("Agent")) : t("System");
  return el("li", { class: `msg ${msg.sender}`, "data-message": msg.id },
    el("span", { class: "meta" }, `${who} · ${formatTime(msg.at, "short")}`),
    el("span", { class: "text", "data-i18n-skip": true }, msg.text));
}

/** A row of today's contacts. */
export function todayRow(c) {
  return el("tr", {},
    el("td", {}, formatTime(c.answered_at, "short")),
    el("td", {}, word(CHANNEL, c.channel)),
    el("td", { "data-i18n-skip": true }, c.queue_name || c.queue || "—"),
    el("td", { class: "num" }, formatDuration(c.wait_s)),
    el("td", { "data-i18n-skip": true }, c.disposition || (c.state === "wrapup" ? "…" : "—")));
}
