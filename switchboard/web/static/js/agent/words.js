// The fixed vocabularies of the agent desktop, translated (one t() per word,
// so that Babel finds each msgid).

import { t } from "../i18n.js";

export const STATUS = {
  ready: () => t("Ready"),
  not_ready: () => t("Not ready"),
  offline: () => t("Logged out"),
};

export const AGENT_STATE = {
  idle: () => t("Idle"),
  reserved: () => t("Ringing"),
  busy: () => t("Busy"),
  wrapup: () => t("Wrap-up"),
};

export const CONTACT_STATE = {
  ivr: () => t("In the IVR"),
  scheduled: () => t("Scheduled"),
  queued: () => t("Waiting"),
  offered: () => t("Ringing"),
  connected: () => t("Connected"),
  held: () => t("On hold"),
  wrapup: () => t("Wrap-up"),
  ended: () => t("Ended"),
  abandoned: () => t("Abandoned"),
};

export const CHANNEL = {
  voice: () => t("Voice"),
  chat: () => t("Chat"),
  email: () => t("E-mail"),
  sms: () => t("SMS"),
};

export const INCOMING = {
  voice: () => t("Incoming call"),
  chat: () => t("Incoming chat"),
  email: () => t("Incoming e-mail"),
  sms: () => t("Incoming SMS"),
};

export const word = (table, key) => (table[key] ? table[key]() : key || "—");
