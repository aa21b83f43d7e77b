// Translations and locale formatting for the page's language.
//
// The page's <html lang> and <meta name="i18n-areas"> say which language and
// which catalogue areas to load; `ready` resolves once the catalogue is here.
// Use t("English text") for every visible string (Babel extracts the calls:
// the argument must be a plain string literal), tn(singular, plural, n) for
// counts, and the format* helpers for numbers, dates and durations.
// A msgid asked for without a translation (in it, fr, zh) is recorded in
// `missing` (and window.__i18nMissing) so the browser tests can fail on it.

const html = document.documentElement;
export const lang = html.dataset.lang || "en";
export const tag = html.lang || "en";
const areas = (document.querySelector('meta[name="i18n-areas"]')?.content || "common")
  .split(",").filter(Boolean);

let messages = {};
let metrics = {};
export const missing = new Set();
window.__i18nMissing = missing;

async function load() {
  const url = `/api/v1/i18n/${encodeURIComponent(lang)}?areas=${encodeURIComponent(areas.join(","))}`;
  const resp = await fetch(url, { headers: { Accept: "application/json" } });
  if (!resp.ok) throw new Error(`catalogue ${lang}: HTTP ${resp.status}`);
  const body = await resp.json();
  messages = body.messages || {};
  metrics = body.metrics || {};
}

/** Resolves when the catalogue of the page's language and areas is loaded. */
export const ready = load();

function interpolate(text, params) {
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
}

/** The translation of an English msgid; `{name}` placeholders filled from params. */
export function t(msgid, params) {
  const got = messages[msgid];
  if (typeof got === "string" && got) return interpolate(got, params);
  if (lang !== "en") missing.add(msgid);
  return interpolate(msgid, params);
}

const plurals = new Intl.PluralRules(tag);

/** A count's form: tn("{n} contact", "{n} contacts", n) ({n} is filled in). */
export function tn(singular, plural, n, params) {
  const got = messages[singular];
  const all = { n: formatNumber(n), ...params };
  if (Array.isArray(got) && got.every(Boolean)) {
    const index = lang === "zh" ? 0 : (plurals.select(n) === "one" ? 0 : 1);
    return interpolate(got[Math.min(index, got.length - 1)], all);
  }
  if (lang !== "en") missing.add(singular);
  return interpolate(n === 1 ? singular : plural, all);
}

/** A metric's translated {name, definition} (METRICS.md keys, e.g. "asa_s"). */
export function metric(key) {
  return metrics[key] || { name: key, definition: "" };
}

const numberFormats = new Map();
function nf(options) {
  const key = JSON.stringify(options || {});
  let f = numberFormats.get(key);
  if (!f) numberFormats.set(key, (f = new Intl.NumberFormat(tag, options)));
  return f;
}

/** A number in the locale's digits and separators ("—" for null). */
export function formatNumber(value, options) {
  return value === null || value === undefined || Number.isNaN(value) ? "—" : nf(options).format(value);
}

/** A fraction 0..1 as a percentage ("—" for null: a figure with no denominator). */
export function formatPercent(fraction, digits = 1) {
  return formatNumber(fraction, { style: "percent", minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Seconds as a clock-style duration: 0:45, 12:03, 1:02:03 ("—" for null). */
export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "—";
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  const two = (v) => String(v).padStart(2, "0");
  return h ? `${h}:${two(m)}:${two(sec)}` : `${m}:${two(sec)}`;
}

/** Seconds in words for the locale ("2 min 5 s", "2分钟5秒"): for tooltips and labels. */
export function formatDurationWords(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "—";
  const s = Math.max(0, Math.round(seconds));
  const parts = [];
  const unit = (u, v) => nf({ style: "unit", unit: u, unitDisplay: "short" }).format(v);
  if (s >= 3600) parts.push(unit("hour", Math.floor(s / 3600)));
  if (s >= 60) parts.push(unit("minute", Math.floor((s % 3600) / 60)));
  if (s < 3600) parts.push(unit("second", s % 60));
  return parts.join(" ");
}

const dateFormats = {
  date: new Intl.DateTimeFormat(tag, { dateStyle: "medium" }),
  time: new Intl.DateTimeFormat(tag, { timeStyle: "medium" }),
  short: new Intl.DateTimeFormat(tag, { hour: "2-digit", minute: "2-digit" }),
  datetime: new Intl.DateTimeFormat(tag, { dateStyle: "short", timeStyle: "medium" }),
};

/** POSIX seconds (the API's times) or a Date, formatted: kind date|time|short|datetime. */
export function formatTime(when, kind = "time") {
  if (when === null || when === undefined) return "—";
  const d = when instanceof Date ? when : new Date(when * 1000);
  return dateFormats[kind].format(d);
}
