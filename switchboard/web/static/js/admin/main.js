// The administration page: users and roles, agents and skills, queues,
// reason codes, dispositions, business hours, holidays and the tenant's
// settings. One section shows at a time (the URL's #hash says which).

import { api } from "../api.js";
import { ready, t } from "../i18n.js";
import { $$, clearFieldErrors, el, showFieldErrors, toast, toastError } from "../ui.js";
import { hoursSection, holidaysSection } from "./calendar.js";
import { crudSection } from "./crud.js";
import { codeError, constraintErrors, knownZone, showServerError } from "./forms.js";
import { agentsSection, usersSection } from "./people.js";
import { queuesSection } from "./routing.js";

await ready;

const SECTIONS = $$(".admin-section").map((s) => s.id);
const data = { me: await api.get("/me"), tenant: await api.get("/tenant"), agents: [], queues: [],
  skills: [], hours: [] };

// ------------------------------------------------------------------ navigation
function show(id, { focus = false } = {}) {
  const target = SECTIONS.includes(id) ? id : SECTIONS[0];
  for (const section of $$(".admin-section")) section.hidden = section.id !== target;
  for (const link of $$(".admin-nav a")) {
    if (link.hash === `#${target}`) link.setAttribute("aria-current", "true");
    else link.removeAttribute("aria-current");
  }
  if (focus) document.getElementById(`${target}-title`).focus();
}
window.addEventListener("hashchange", () => show(window.location.hash.slice(1), { focus: true }));
show(window.location.hash.slice(1));

// ------------------------------------------------------------------ time zones
const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
document.getElementById("timezones").replaceChildren(...["UTC", ...zones].map((z) => el("option", { value: z })));

// ------------------------------------------------------------------ sections
async function loadSkills() {
  data.skills = (await api.get("/skills")).map((s) => s.name);
}

const users = usersSection(data);
const holidays = holidaysSection(data);
const hours = hoursSection(data, () => holidays.hoursChanged());
const queues = queuesSection(data, () => Promise.all([hours.refresh(), loadSkills()]));
const agents = agentsSection(data, () => {
  users.agentsChanged();
  return Promise.all([users.refresh(), loadSkills()]);
});

function codes(id, path) {
  return crudSection({
    id,
    path,
    load: () => api.get(path),
    label: (c) => c.code,
    cells: (c) => [el("code", {}, c.code), c.label],
    fill(f, c) {
      f.elements.code.value = c ? c.code : "";
      f.elements.label.value = c ? c.label : "";
    },
    read(f) {
      const errors = {};
      const code = f.elements.code.value.trim();
      const label = f.elements.label.value.trim();
      if (code && codeError(code)) errors.code = codeError(code);
      if (f.elements.label.value && !label) errors.label = t("This field is required.");
      return { body: { code, label }, errors };
    },
  });
}
const reasonCodes = codes("reason-codes", "/reason-codes");
const dispositions = codes("dispositions", "/dispositions");

// ------------------------------------------------------------------ tenant settings
const tenantForm = document.getElementById("tenant-form");
function fillTenant() {
  tenantForm.elements.name.value = data.tenant.name;
  tenantForm.elements.timezone.value = data.tenant.timezone;
}
tenantForm.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  clearFieldErrors(tenantForm);
  const errors = constraintErrors(tenantForm);
  const zone = tenantForm.elements.timezone.value.trim();
  if (zone && !knownZone(zone)) errors.timezone = t("Unknown time zone: use a name like Europe/Rome.");
  if (Object.keys(errors).length) { showFieldErrors(tenantForm, errors); return; }
  try {
    data.tenant = await api.patch("/tenant", { name: tenantForm.elements.name.value.trim(), timezone: zone });
    fillTenant();
    toast(t("Saved."), { kind: "success" });
  } catch (err) {
    showServerError(tenantForm, err);
  }
});
fillTenant();

try {
  // agents first (users and queues name them), then queues (business hours name
  // them; their refresh reloads the holidays, which name business hours)
  await agents.refresh();
  await queues.refresh();
  await Promise.all([reasonCodes.refresh(), dispositions.refresh()]);
} catch (err) {
  toastError(err);
}
document.body.dataset.loaded = "1";
