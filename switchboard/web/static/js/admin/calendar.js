// Business hours (weekly ranges per tenant or queue, in a time zone) and holidays.

import { api } from "../api.js";
import { t, tag } from "../i18n.js";
import { el } from "../ui.js";
import { crudSection } from "./crud.js";
import { codeError, fillSelect, knownZone, parseRanges } from "./forms.js";

export const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const weekday = new Intl.DateTimeFormat(tag, { weekday: "long", timeZone: "UTC" });
const shortDay = new Intl.DateTimeFormat(tag, { weekday: "short", timeZone: "UTC" });
const longDate = new Intl.DateTimeFormat(tag, { dateStyle: "medium", timeZone: "UTC" });
// 2024-01-01 was a Monday.
const dayName = (i, f = weekday) => f.format(new Date(Date.UTC(2024, 0, 1 + i)));

/** "2025-12-25" in the page's language. */
export function formatDay(iso) {
  return longDate.format(new Date(`${iso}T00:00:00Z`));
}

export function hoursSection(data, onChange) {
  const form = document.getElementById("hours-form");
  const grid = form.querySelector(".week-grid");
  grid.replaceChildren(...DAYS.map((d, i) => el("div", { class: "field week-day" },
    el("label", { for: `hours-${d}` }, dayName(i)),
    el("input", { id: `hours-${d}`, name: `weekly.${d}`, maxlength: "200", autocomplete: "off",
      placeholder: t("closed"), "aria-describedby": "hours-week-hint" }))));

  const scopeName = (queue) => (queue ? (data.queues.find((q) => q.id === queue)?.name || queue)
    : t("The whole contact center"));

  function weekSummary(weekly) {
    const open = DAYS.map((d, i) => (weekly[d].length ? `${dayName(i, shortDay)} ${weekly[d].join(", ")}` : null))
      .filter(Boolean);
    return open.length ? open.join(" · ") : t("Always closed");
  }

  function nowCell(h) {
    const cell = el("td", {}, "…");
    api.get(`/business-hours/${encodeURIComponent(h.id)}/status`).then((s) => {
      const labels = { open: [t("Open"), "ok"], closed: [t("Closed"), ""], holiday: [t("Holiday"), "warn"] };
      const [text, kind] = labels[s.status] || [s.status, ""];
      cell.replaceChildren(el("span", { class: `badge ${kind}` }, text));
    }, () => cell.replaceChildren("—"));
    return cell;
  }

  return crudSection({
    id: "hours",
    path: "/business-hours",
    load: () => api.get("/business-hours"),
    label: (h) => h.name,
    cells: (h) => [h.name, scopeName(h.queue), h.timezone, weekSummary(h.weekly), nowCell(h)],
    fill(f, h) {
      fillSelect(f.elements.queue, [["", t("The whole contact center")],
        ...data.queues.map((q) => [q.id, q.name])], h ? h.queue || "" : "");
      f.elements.name.value = h ? h.name : "";
      f.elements.timezone.value = h ? h.timezone : data.tenant.timezone;
      for (const d of DAYS) f.elements[`weekly.${d}`].value = h ? h.weekly[d].join(", ") : "";
    },
    read(f, h) {
      const errors = {};
      const name = f.elements.name.value.trim();
      if (name && codeError(name)) errors.name = codeError(name);
      const zone = f.elements.timezone.value.trim();
      if (zone && !knownZone(zone)) errors.timezone = t("Unknown time zone: use a name like Europe/Rome.");
      const weekly = {};
      for (const d of DAYS) {
        const parsed = parseRanges(f.elements[`weekly.${d}`].value);
        if (parsed.error) errors[`weekly.${d}`] = parsed.error;
        else weekly[d] = parsed.ranges;
      }
      const body = { name, timezone: zone, weekly, queue: f.elements.queue.value || null };
      if (h && body.queue === h.queue) delete body.queue; // unchanged: no scope re-check
      return { body, errors };
    },
    received: (hours) => { data.hours = hours; },
    loaded: () => onChange(),
  });
}

export function holidaysSection(data) {
  const form = document.getElementById("holidays-form");
  const calendarName = (id) => (id ? (data.hours.find((h) => h.id === id)?.name || id) : t("Every calendar"));

  const section = crudSection({
    id: "holidays",
    path: "/holidays",
    load: () => api.get("/holidays"),
    label: (h) => `${h.name} (${formatDay(h.date)})`,
    cells: (h) => [el("time", { datetime: h.date }, formatDay(h.date)), h.name,
      h.hours.length ? h.hours.join(", ") : t("Closed all day"), calendarName(h.business_hours)],
    fill(f, h) {
      calendars(h ? h.business_hours || "" : "");
      f.elements.date.value = h ? h.date : "";
      f.elements.name.value = h ? h.name : "";
      f.elements.hours.value = h ? h.hours.join(", ") : "";
    },
    read(f, h) {
      const errors = {};
      const parsed = parseRanges(f.elements.hours.value);
      if (parsed.error) errors.hours = parsed.error;
      const body = { date: f.elements.date.value, name: f.elements.name.value.trim(),
        hours: parsed.ranges || [], business_hours: f.elements.business_hours.value || null };
      if (h && body.business_hours === h.business_hours) delete body.business_hours;
      return { body, errors };
    },
  });

  function calendars(value) {
    fillSelect(form.elements.business_hours, [["", t("Every calendar")],
      ...data.hours.map((h) => [h.id, h.name])], value);
  }
  return { ...section, hoursChanged: () => { calendars(); return section.refresh(); } };
}
