// The reports page: interval, day, queue and agent reports for a chosen
// period (dates in the contact center's time zone, or another), as a table and
// a hand-written SVG chart, and the same query as CSV, XLSX or Parquet downloads.

import { api } from "../api.js";
import {
  formatDuration, formatNumber, formatPercent, metric, ready, t, tag,
} from "../i18n.js";
import { $, $$, clearFieldErrors, el, metricLabel, replace, showFieldErrors, toastError } from "../ui.js";
import { barChart, columnChart, everyInterval, legend } from "./chart.js";

await ready;

const form = document.getElementById("report-form");
const result = document.getElementById("report-result");
const table = document.getElementById("report-table");
const MAX_INTERVAL_DAYS = 31;
const DAY_MS = 86400000;

const COLUMNS = {
  time: ["offered", "answered", "abandoned", "abandon_rate", "service_level", "asa_s", "aht_s", "max_wait_s"],
  queue: ["offered", "answered", "abandoned", "abandon_rate", "service_level", "asa_s", "aht_s", "transfers", "overflows"],
  agent: ["answered", "aht_s", "att_s", "acw_s", "transfers", "rna", "occupancy", "logged_in_s", "not_ready_s"],
};
const RATIOS = new Set(["abandon_rate", "service_level", "occupancy", "utilization", "hold_rate"]);
const SECONDS = /_s$/;
const TOTALS = new Set(["offered", "answered", "abandoned", "transfers", "overflows", "rna", "logged_in_s", "not_ready_s"]);
const AGENT_TIMES = {
  logged_in_s: () => ({ name: t("Logged in"), definition: t("Time logged in during the period.") }),
  not_ready_s: () => ({ name: t("Not ready"), definition: t("Time logged in but not ready during the period.") }),
};
const TITLES = {
  interval: () => t("By interval"), day: () => t("By day"), queue: () => t("By queue"), agent: () => t("By agent"),
};

const names = { queue: new Map(), agent: new Map() };
const tenant = await api.get("/tenant");

// ------------------------------------------------------------------ the form
const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
document.getElementById("report-zones").replaceChildren(...["UTC", ...zones].map((z) => el("option", { value: z })));
form.elements.tz.value = tenant.timezone;
const today = new Intl.DateTimeFormat("en-CA", { timeZone: tenant.timezone, year: "numeric", month: "2-digit", day: "2-digit" })
  .format(new Date());
form.elements.from.value = today;
form.elements.to.value = today;

const isoDay = (ms) => new Date(ms).toISOString().slice(0, 10);
const dayMs = (iso) => Date.parse(`${iso}T00:00:00Z`);

/** The query of the form, or {errors}: dates checked, "to" included (the API's to is exclusive). */
function query() {
  const f = form.elements;
  const errors = {};
  for (const name of ["from", "to", "sl_threshold", "tz"]) {
    const input = f[name];
    if (!input.validity.valid) {
      errors[name] = input.validity.valueMissing ? t("This field is required.") : t("This is not a valid value.");
    }
  }
  const zone = f.tz.value.trim();
  if (zone && !errors.tz) {
    try { new Intl.DateTimeFormat("en", { timeZone: zone }); } catch { errors.tz = t("Unknown time zone: use a name like Europe/Rome."); }
  }
  if (!errors.from && !errors.to && dayMs(f.to.value) < dayMs(f.from.value)) {
    errors.to = t("The end comes before the start.");
  }
  const by = f.by.value;
  if (!errors.from && !errors.to && by === "interval" && (dayMs(f.to.value) - dayMs(f.from.value)) / DAY_MS + 1 > MAX_INTERVAL_DAYS) {
    errors.to = t("An interval report covers at most {n} days; choose a shorter period or the day report.", { n: MAX_INTERVAL_DAYS });
  }
  if (Object.keys(errors).length) return { errors };
  const q = { from: f.from.value, to: isoDay(dayMs(f.to.value) + DAY_MS), tz: zone,
    sl_threshold: f.sl_threshold.value };
  if (by === "interval") q.interval = f.interval.value;
  return { by, q };
}

function exportUrl(by, q, format) {
  return `/api/v1/reports/${by}?${new URLSearchParams({ ...q, format })}`;
}

function updateExports() {
  const { by, q } = query();
  for (const link of $$(".export", form)) {
    if (by) {
      link.href = exportUrl(by, q, link.dataset.format);
      link.removeAttribute("aria-disabled");
      link.removeAttribute("tabindex");
    } else {
      link.href = "#";
      link.setAttribute("aria-disabled", "true");
      link.setAttribute("tabindex", "-1");
    }
  }
  for (const node of $$(".interval-only", form)) node.hidden = form.elements.by.value !== "interval";
}
form.addEventListener("input", updateExports);
form.addEventListener("change", updateExports);
for (const link of $$(".export", form)) {
  link.addEventListener("click", (ev) => {
    if (link.getAttribute("aria-disabled") === "true") {
      ev.preventDefault();
      showFieldErrors(form, query().errors || {});
    }
  });
}
updateExports();

// ------------------------------------------------------------------ rendering
function keyLabel(by, key) {
  if (by === "interval") return key.slice(11, 16); // local HH:MM of "2025-01-01T08:00:00+01:00"
  if (by === "day") return new Intl.DateTimeFormat(tag, { dateStyle: "medium", timeZone: "UTC" }).format(new Date(dayMs(key)));
  if (!key) return by === "agent" ? t("(no agent)") : t("(no queue)");
  return names[by].get(key) || key;
}

function longKey(by, key, multiDay) {
  if (by === "interval" && multiDay) {
    const d = new Intl.DateTimeFormat(tag, { month: "2-digit", day: "2-digit", timeZone: "UTC" }).format(new Date(dayMs(key.slice(0, 10))));
    return `${d} ${key.slice(11, 16)}`;
  }
  return keyLabel(by, key);
}

function cell(name, value) {
  if (RATIOS.has(name)) return formatPercent(value);
  if (SECONDS.test(name)) return formatDuration(value);
  return formatNumber(value);
}

function info(name) {
  return AGENT_TIMES[name] ? AGENT_TIMES[name]() : metric(name);
}

function renderTable(by, rows, multiDay) {
  const cols = COLUMNS[by === "interval" || by === "day" ? "time" : by];
  const keyTitle = { interval: t("Interval start"), day: t("Day"), queue: t("Queue"), agent: t("Agent") }[by];
  replace(table.tHead, el("tr", {}, el("th", { scope: "col" }, keyTitle),
    cols.map((c) => el("th", { scope: "col", class: "num" }, metricLabel(info(c))))));
  replace(table.tBodies[0], rows.map((r) => el("tr", {},
    el("th", { scope: "row" }, el("span", { "data-i18n-skip": by === "queue" || by === "agent" ? "" : null }, longKey(by, r.key, multiDay))),
    cols.map((c) => el("td", { class: "num" }, cell(c, r[c]))))));
  const sums = cols.map((c) => (TOTALS.has(c) ? rows.reduce((s, r) => s + (r[c] || 0), 0) : null));
  replace(table.tFoot, el("tr", {}, el("th", { scope: "row" }, t("Total")),
    cols.map((c, i) => el("td", { class: "num" }, sums[i] === null ? "" : cell(c, sums[i])))));
}

function renderChart(by, rows, multiDay, q) {
  const box = document.getElementById("chart");
  const offered = metric("offered").name, answered = metric("answered").name;
  let chart;
  let keys;
  if (by === "interval" || by === "day") {
    document.getElementById("chart-title").textContent = t("Offered and answered, with the service level");
    if (by === "interval") rows = everyInterval(rows, q);
    chart = columnChart({
      titleText: t("Offered and answered, with the service level"),
      labels: rows.map((r) => longKey(by, r.key, multiDay)),
      series: [{ label: offered, cls: "offered", values: rows.map((r) => r.offered) },
        { label: answered, cls: "answered", values: rows.map((r) => r.answered) }],
      line: { label: metric("service_level").name, cls: "sl", values: rows.map((r) => r.service_level) },
      format: (v) => formatNumber(v, { maximumFractionDigits: 1 }),
      percent: (v) => formatPercent(v, 0),
    });
    keys = [{ label: offered, cls: "offered" }, { label: answered, cls: "answered" },
      { label: metric("service_level").name, cls: "sl" }];
  } else if (by === "queue") {
    document.getElementById("chart-title").textContent = t("Offered and answered per queue");
    chart = barChart({
      titleText: t("Offered and answered per queue"),
      rows: rows.map((r) => ({ label: keyLabel(by, r.key), values: [r.offered, r.answered] })),
      series: [{ label: offered, cls: "offered" }, { label: answered, cls: "answered" }],
      format: (v) => formatNumber(v),
    });
    keys = [{ label: offered, cls: "offered" }, { label: answered, cls: "answered" }];
  } else {
    document.getElementById("chart-title").textContent = t("Contacts answered per agent");
    chart = barChart({
      titleText: t("Contacts answered per agent"),
      rows: rows.filter((r) => r.key).map((r) => ({ label: keyLabel(by, r.key), values: [r.answered] })),
      series: [{ label: answered, cls: "answered" }],
      format: (v) => formatNumber(v),
    });
    keys = [{ label: answered, cls: "answered" }];
  }
  replace(box, chart, legend(keys));
}

async function loadNames() {
  const [queues, agents] = await Promise.all([api.get("/queues"), api.get("/agents")]);
  names.queue = new Map(queues.map((q) => [q.id, q.name]));
  names.agent = new Map(agents.map((a) => [a.id, a.name]));
}

async function show() {
  clearFieldErrors(form);
  const { by, q, errors } = query();
  if (errors) { showFieldErrors(form, errors); return; }
  result.setAttribute("aria-busy", "true");
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const [rows] = await Promise.all([api.get(`/reports/${by}`, q), loadNames()]);
    const multiDay = q.from !== isoDay(dayMs(q.to) - DAY_MS);
    const from = form.elements.from.value, to = form.elements.to.value;
    document.getElementById("result-title").textContent = `${TITLES[by]()} · ${from === to
      ? keyLabel("day", from) : `${keyLabel("day", from)} – ${keyLabel("day", to)}`} (${q.tz})`;
    $("#result-empty").hidden = rows.length > 0;
    $(".chart-card", result).hidden = rows.length === 0;
    $(".table-card", result).hidden = rows.length === 0;
    if (rows.length) {
      renderTable(by, rows, multiDay);
      renderChart(by, rows, multiDay, q);
    }
    result.dataset.rows = String(rows.length);
    result.dataset.by = by;
  } catch (err) {
    if (err.field) showFieldErrors(form, { [err.field === "interval" ? "interval" : err.field]: err.message });
    else toastError(err);
  } finally {
    button.disabled = false;
    result.setAttribute("aria-busy", "false");
  }
}

form.addEventListener("submit", (ev) => { ev.preventDefault(); show(); });
await show();
document.body.dataset.loaded = "1";
