// One administration section: a table of the resources, a form to create or
// edit one, deletion after a confirmation. Checks run in the browser first
// (constraints + the section's own), then the server's refusal, if any, is
// shown next to the field it names.

import { api } from "../api.js";
import { t } from "../i18n.js";
import { $, clearFieldErrors, el, firstFocusable, replace, showFieldErrors, toast, toastError } from "../ui.js";
import { constraintErrors, showServerError } from "./forms.js";

const dialog = () => document.getElementById("confirm-dialog");

/** A random Idempotency-Key (crypto.randomUUID needs a secure context; this does not). */
function newKey() {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Ask before deleting: resolves true when the user confirms. */
export function confirmDelete(text) {
  const box = dialog();
  box.querySelector("#confirm-text").textContent = text;
  box.returnValue = "";
  box.showModal();
  return new Promise((resolve) => {
    box.addEventListener("close", () => resolve(box.returnValue === "yes"), { once: true });
  });
}

/**
 * A section over an API collection.
 *   path: "/reason-codes"; id: the section id (table #ID-table, form #ID-form);
 *   load(): the items; cells(item): the table cells; label(item): its name;
 *   fill(form, item|null): put an item (or defaults) in the form;
 *   read(form, item|null): {body, errors} from the form (errors: {name: message});
 *   save(body, item|null): optional custom save (default POST path / PATCH path/id);
 *   removable(item): false to hide the delete button;
 *   received(items): called with fresh items before they are drawn;
 *   loaded(items): awaited after they are drawn (dependent sections refresh).
 */
export function crudSection(options) {
  const { id, path } = options;
  const form = document.getElementById(`${id}-form`);
  const table = document.getElementById(`${id}-table`);
  const section = document.getElementById(id);
  const newButton = $(".new-item", section);
  const title = document.getElementById(`${id}-form-title`);
  let items = [];
  let editing = null;
  let key = newKey(); // one per opened form: a double submit creates one resource

  function open(item) {
    editing = item;
    key = newKey();
    clearFieldErrors(form);
    form.dataset.mode = item ? "edit" : "new";
    title.textContent = item ? title.dataset.edit : title.dataset.new;
    for (const node of form.querySelectorAll("[data-new][data-edit]")) {
      if (node !== title) node.textContent = item ? node.dataset.edit : node.dataset.new;
    }
    for (const node of form.querySelectorAll(".edit-only")) node.hidden = !item;
    options.fill(form, item);
    form.hidden = false;
    firstFocusable(form)?.focus();
  }

  function close(focusTarget) {
    form.hidden = true;
    editing = null;
    (focusTarget || newButton).focus();
  }

  async function remove(item, button) {
    if (!(await confirmDelete(t("Delete {name}?", { name: options.label(item) })))) {
      button.focus();
      return;
    }
    try {
      await api.del(`${path}/${encodeURIComponent(item.id)}`);
      toast(t("Deleted."), { kind: "success" });
      if (editing && editing.id === item.id) close();
      await refresh();
      newButton.focus();
    } catch (err) {
      toastError(err);
      button.focus();
    }
  }

  function render() {
    const body = table.tBodies[0];
    replace(body, items.map((item) => {
      const edit = el("button", { type: "button", class: "button small", onclick: () => open(item),
        "aria-label": t("Edit {name}", { name: options.label(item) }) }, t("Edit"));
      const del = options.removable && !options.removable(item) ? null
        : el("button", { type: "button", class: "button small danger",
          "aria-label": t("Delete {name}", { name: options.label(item) }),
          onclick: (ev) => remove(item, ev.currentTarget) }, t("Delete"));
      return el("tr", { dataset: { id: item.id } },
        options.cells(item).map((cell) => (cell instanceof Node && cell.tagName === "TD" ? cell : el("td", {}, cell))),
        el("td", { class: "actions" }, el("div", { class: "row" }, edit, del)));
    }));
    $(".empty", section).hidden = items.length > 0;
  }

  async function refresh() {
    items = await options.load();
    options.received?.(items); // shared data first: the cells may name these items
    render();
    await options.loaded?.(items); // dependent sections refresh before this resolves
    return items;
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearFieldErrors(form);
    const { body, errors = {} } = options.read(form, editing);
    const all = { ...constraintErrors(form), ...errors };
    if (Object.keys(all).length) {
      showFieldErrors(form, all);
      return;
    }
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const saved = options.save ? await options.save(body, editing)
        : editing ? await api.patch(`${path}/${encodeURIComponent(editing.id)}`, body)
          : await api.post(path, body, { headers: { "Idempotency-Key": key } });
      toast(editing ? t("Saved.") : t("Created."), { kind: "success" });
      await refresh();
      const row = saved && table.querySelector(`tr[data-id="${CSS.escape(saved.id || "")}"] button`);
      close(row || newButton);
    } catch (err) {
      showServerError(form, err);
    } finally {
      button.disabled = false;
    }
  });
  form.querySelector(".cancel").addEventListener("click", () => close());
  form.addEventListener("keydown", (ev) => { if (ev.key === "Escape") close(); });
  newButton.addEventListener("click", () => open(null));

  return { refresh, open, get items() { return items; } };
}
