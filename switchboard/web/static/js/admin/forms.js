// Form helpers of the administration page: checks in the browser (the HTML
// constraints plus what they cannot say), the server's refusals shown next to
// the field they name, and the editors of skills, opening ranges and rows.

import { ApiError } from "../api.js";
import { t } from "../i18n.js";
import { $$, el, showFieldErrors } from "../ui.js";

const CODE = /^[A-Za-z0-9_.-]+$/;
const RANGE = /^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$/;

/** The message for an input the browser's constraints refuse (null when valid). */
export function constraintMessage(input) {
  const v = input.validity;
  if (v.valid) return null;
  if (v.valueMissing) return t("This field is required.");
  if (v.badInput || v.typeMismatch) return t("This is not a valid value.");
  if (v.patternMismatch) return t("Use letters, digits, _ . or - only (no spaces).");
  if (v.rangeUnderflow) return t("The smallest value allowed is {min}.", { min: input.min });
  if (v.rangeOverflow) return t("The largest value allowed is {max}.", { max: input.max });
  if (v.stepMismatch) return t("Give a whole number.");
  if (v.tooShort) return t("Give at least {n} characters.", { n: input.minLength });
  if (v.tooLong) return t("Give at most {n} characters.", { n: input.maxLength });
  return t("This is not a valid value.");
}

/** {name: message} for every enabled, shown control the browser's constraints refuse. */
export function constraintErrors(form) {
  const errors = {};
  for (const input of form.elements) {
    if (!input.name || input.disabled || input.closest("[hidden]") || !input.willValidate) continue;
    const message = constraintMessage(input);
    if (message && !(input.name in errors)) errors[input.name] = message;
  }
  return errors;
}

/**
 * The form control that a server field names (`weekly.mon[1]`, `steps[0].after_s`,
 * `skills.french`): the control of that exact name or data-field, a skill row
 * by its skill's name, else the nearest enclosing name ("" for the whole form).
 */
export function resolveField(form, field) {
  if (!field) return "";
  const skill = /^(.*?)\.?skills\.(.+)$/.exec(field);
  if (skill) {
    const editor = form.querySelector(`.skills-editor[data-prefix="${CSS.escape(skill[1] ? `${skill[1]}.skills` : "skills")}"]`);
    for (const row of editor ? $$(".skill-row", editor) : []) {
      if (row.querySelector(".skill-name").value.trim() === skill[2]) return row.querySelector(".skill-level").name;
    }
  }
  let name = field;
  for (;;) {
    const sel = `[name="${CSS.escape(name)}"], [data-field="${CSS.escape(name)}"]`;
    const found = form.querySelector(sel);
    if (found) return found.name || found.dataset.field;
    const shorter = name.replace(/(\.[^.[\]]+|\[\d+\])$/, "");
    if (shorter === name || !shorter) return "";
    name = shorter;
  }
}

/** Show a refused request: next to the field it names, else above the form. */
export function showServerError(form, err) {
  if (!(err instanceof ApiError)) {
    showFieldErrors(form, { "": String(err.message || err) });
    return;
  }
  const message = err.code === "network" ? t("The server cannot be reached.") : err.message;
  showFieldErrors(form, { [resolveField(form, err.field)]: message });
}

/** A number input's value, or null when empty. */
export function numberOrNull(input) {
  return input.value.trim() === "" ? null : Number(input.value);
}

// ------------------------------------------------------------------ opening ranges
function minutes(h, m) { return Number(h) * 60 + Number(m); }

/**
 * Parse "08:00-12:00, 13:00-18:00" into ["08:00-12:00", "13:00-18:00"] (sorted);
 * {error} with a message saying what to fix otherwise. Empty text: [].
 */
export function parseRanges(text) {
  const parts = text.split(/[\s,;]+/).filter(Boolean);
  const ranges = [];
  for (const part of parts) {
    const m = RANGE.exec(part);
    if (!m) return { error: t("{text} is not a range like 08:00-12:00.", { text: part }) };
    const [h1, m1, h2, m2] = m.slice(1).map(Number);
    if (h1 > 23 || m1 > 59 || h2 > 24 || m2 > 59 || (h2 === 24 && m2 !== 0)) {
      return { error: t("{text} is not a time of day.", { text: part }) };
    }
    const start = minutes(h1, m1), end = minutes(h2, m2);
    if (end <= start) return { error: t("{text} ends before it starts; split a range that passes midnight.", { text: part }) };
    ranges.push({ start, end, text: `${m[1].padStart(2, "0")}:${m[2]}-${m[3].padStart(2, "0")}:${m[4]}` });
  }
  ranges.sort((a, b) => a.start - b.start);
  for (let i = 1; i < ranges.length; i += 1) {
    if (ranges[i].start < ranges[i - 1].end) {
      return { error: t("{a} and {b} overlap.", { a: ranges[i - 1].text, b: ranges[i].text }) };
    }
  }
  return { ranges: ranges.map((r) => r.text) };
}

/** Whether the browser knows a time zone name (the server checks it too). */
export function knownZone(name) {
  try {
    new Intl.DateTimeFormat("en", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** Check a code or name (letters, digits, _ . -). */
export function codeError(value) {
  return CODE.test(value) ? null : t("Use letters, digits, _ . or - only (no spaces).");
}

// ------------------------------------------------------------------ skills editor
let skillListId = 0;

/**
 * The rows of a fieldset.skills-editor: set({skill: level}), value() the
 * mapping, errors() {name: message} for empty or repeated skills.
 */
export function skillsEditor(fieldset, catalogue) {
  const rows = fieldset.querySelector(".skill-rows");
  const prefix = fieldset.dataset.prefix;
  const listId = `skill-list-${(skillListId += 1)}`;
  const list = el("datalist", { id: listId });
  fieldset.append(list);
  let counter = 0;

  function addRow(name = "", level = 1) {
    counter += 1;
    const nameId = `${prefix}-${listId}-${counter}-name`;
    const levelId = `${prefix}-${listId}-${counter}-level`;
    const row = el("div", { class: "skill-row row" },
      el("label", { class: "visually-hidden", for: nameId }, t("Skill")),
      el("input", { id: nameId, class: "skill-name", name: `${prefix}#${counter}.name`, list: listId, required: true,
        maxlength: "100", pattern: "[A-Za-z0-9_.\\-]+", value: name, placeholder: t("skill"), autocomplete: "off" }),
      el("label", { for: levelId }, fieldset.dataset.levelLabel),
      el("input", { id: levelId, class: "skill-level", name: `${prefix}#${counter}.level`, type: "number", min: "1",
        max: "10", step: "1", required: true, value: String(level) }),
      el("button", { type: "button", class: "button small secondary", "aria-label": t("Remove this skill"),
        onclick: () => { row.remove(); fieldset.querySelector(".add-skill").focus(); } }, "×"));
    rows.append(row);
    return row;
  }

  fieldset.querySelector(".add-skill").addEventListener("click", () => addRow().querySelector(".skill-name").focus());

  return {
    set(skills) {
      rows.replaceChildren();
      for (const [name, level] of Object.entries(skills || {})) addRow(name, level);
    },
    catalogue(names) {
      list.replaceChildren(...names.map((n) => el("option", { value: n })));
    },
    value() {
      const out = {};
      for (const row of $$(".skill-row", rows)) {
        out[row.querySelector(".skill-name").value.trim()] = Number(row.querySelector(".skill-level").value);
      }
      return out;
    },
    errors() {
      const seen = new Set();
      const errors = {};
      for (const row of $$(".skill-row", rows)) {
        const input = row.querySelector(".skill-name");
        const name = input.value.trim();
        if (name && seen.has(name)) errors[input.name] = t("This skill is listed twice.");
        seen.add(name);
      }
      return errors;
    },
  };
}

/** "french:3, english:2" into {french: 3, english: 2}; {error} when malformed. */
export function parseSkillText(text) {
  const out = {};
  for (const part of text.split(/[\s,;]+/).filter(Boolean)) {
    const m = /^([A-Za-z0-9_.-]+):(\d{1,2})$/.exec(part);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 10) {
      return { error: t("Write skills as name:level, for example french:3 (levels 1 to 10).") };
    }
    out[m[1]] = Number(m[2]);
  }
  return { skills: out };
}

/** {french: 3} as "french:3". */
export function skillText(skills) {
  return Object.entries(skills || {}).map(([k, v]) => `${k}:${v}`).join(", ");
}

/** Fill a <select> with [value, label] options (keeps the selection when it can). */
export function fillSelect(select, options, value) {
  const keep = value === undefined ? select.value : value;
  select.replaceChildren(...options.map(([v, label]) => el("option", { value: v }, label)));
  if (options.some(([v]) => v === keep)) select.value = keep;
}
