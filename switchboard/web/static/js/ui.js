// Small DOM helpers shared by every page: element building, form field
// errors next to their field, toasts, focus management.

import { ApiError } from "./api.js";
import { t } from "./i18n.js";

/** querySelector with a root. */
export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));

/**
 * Build an element: el("button", {class: "button", onclick: fn, "aria-label": t("Close")}, "x").
 * Attributes starting with "on" become listeners; `text` sets textContent;
 * null/false attributes are left out; children may be strings or nodes.
 * (The pages' CSP forbids inline style attributes: use classes, or el.style.x.)
 */
export function el(tag, attrs = {}, ...children) {
  const node = tag === "svg" || attrs.svg
    ? document.createElementNS("http://www.w3.org/2000/svg", tag)
    : document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false || key === "svg") continue;
    if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (key === "text") node.textContent = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** SVG element helper (same rules as el). */
export function svg(tag, attrs = {}, ...children) {
  return el(tag, { ...attrs, svg: true }, ...children);
}

function fieldFor(form, name) {
  if (!name) return null;
  const escaped = CSS.escape(name);
  return form.querySelector(`[name="${escaped}"]`) || form.querySelector(`[data-field="${escaped}"]`)
    || form.querySelector(`[name="${CSS.escape(name.split(".").pop())}"]`);
}

/** Remove every error shown by showFieldErrors in the form. */
export function clearFieldErrors(form) {
  for (const node of $$(".field-error", form)) node.remove();
  for (const node of $$("[aria-invalid]", form)) {
    node.removeAttribute("aria-invalid");
    const ids = (node.getAttribute("aria-describedby") || "").split(" ").filter((id) => !id.startsWith("err-"));
    if (ids.length) node.setAttribute("aria-describedby", ids.join(" "));
    else node.removeAttribute("aria-describedby");
  }
  const general = $(".form-error", form);
  if (general) { general.textContent = ""; general.hidden = true; }
}

/**
 * Show errors next to their fields: `errors` is an ApiError (its field and
 * message) or {fieldName: message}. A field not in the form (or none) goes to
 * the form's .form-error element. Focuses the first invalid field.
 */
export function showFieldErrors(form, errors) {
  clearFieldErrors(form);
  const map = errors instanceof ApiError ? errors.fieldErrors : errors;
  let first = null;
  for (const [name, message] of Object.entries(map)) {
    const field = fieldFor(form, name);
    if (!field) {
      let general = $(".form-error", form);
      if (!general) {
        general = el("p", { class: "form-error", role: "alert" });
        form.prepend(general);
      }
      general.textContent = message;
      general.hidden = false;
      continue;
    }
    const id = `err-${field.id || field.name}`.replace(/[^\w-]/g, "-");
    const note = el("p", { class: "field-error", id, role: "alert" }, message);
    field.setAttribute("aria-invalid", "true");
    field.setAttribute("aria-describedby", [field.getAttribute("aria-describedby"), id].filter(Boolean).join(" "));
    (field.closest(".field") || field.parentElement).append(note);
    first = first || field;
  }
  if (first) first.focus();
}

/** A short message in the toast area (role=status): kind info|success|error. */
export function toast(message, { kind = "info", timeout = 5000 } = {}) {
  const box = document.getElementById("toasts");
  if (!box) return null;
  const node = el("div", { class: `toast ${kind}` },
    el("span", {}, message),
    el("button", { type: "button", class: "toast-close", "aria-label": t("Dismiss"), onclick: () => node.remove() }, "×"));
  box.append(node);
  if (timeout) setTimeout(() => node.remove(), timeout);
  return node;
}

/** Report an error from an API call as a toast (the server's message). */
export function toastError(err) {
  const message = err instanceof ApiError
    ? (err.code === "network" ? t("The server cannot be reached.") : err.message)
    : String(err.message || err);
  return toast(message, { kind: "error", timeout: 8000 });
}

/** Focus a node (making it focusable if it is not). */
export function focus(node) {
  if (!node) return;
  if (!node.matches("a[href], button, input, select, textarea, [tabindex]")) node.setAttribute("tabindex", "-1");
  node.focus();
}

/** The first focusable element inside a container. */
export function firstFocusable(container) {
  return container.querySelector("button:not([disabled]), [href], input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex='-1'])");
}

/** Replace a container's children. */
export function replace(container, ...children) {
  container.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
}

/** An <abbr>-like label whose tooltip is the metric's definition (METRICS.md key). */
export function metricLabel(metricInfo, tagName = "span") {
  return el(tagName, { class: "metric-name", title: metricInfo.definition, tabindex: "0",
    "aria-description": metricInfo.definition }, metricInfo.name);
}

/** Show a Feed's status in a node (class feed-status): returns the onStatus callback. */
export function feedIndicator(node) {
  const labels = {
    connecting: () => t("Connecting…"),
    live: () => t("Live"),
    reconnecting: () => t("Reconnecting…"),
    closed: () => t("Disconnected"),
  };
  return (status) => {
    node.dataset.status = status;
    node.textContent = (labels[status] || labels.closed)();
  };
}
