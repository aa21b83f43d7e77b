// Users and roles, agents and skills.

import { api } from "../api.js";
import { t } from "../i18n.js";
import { el } from "../ui.js";
import { crudSection } from "./crud.js";
import { fillSelect, skillsEditor } from "./forms.js";

const CHANNELS = ["voice", "chat", "email", "sms"];
const DEFAULT_CAPACITY = { voice: 1, chat: 3, email: 1, sms: 3 };

/** The translated text of a <select>'s option (the template translates them). */
export function optionText(select, value) {
  const option = Array.from(select.options).find((o) => o.value === value);
  return option ? option.textContent : value;
}

export function usersSection(data) {
  const form = document.getElementById("users-form");
  const role = form.elements.role;
  const agentSelect = form.elements.agent;

  function agentOptions() {
    fillSelect(agentSelect, [["", t("(none)")], ...data.agents.map((a) => [a.id, a.name])]);
  }

  const section = crudSection({
    id: "users",
    path: "/users",
    load: () => api.get("/users"),
    label: (u) => u.username,
    removable: (u) => u.id !== data.me.id,
    cells: (u) => [
      el("span", { "data-i18n-skip": "" }, u.username),
      optionText(role, u.role),
      u.agent ? (data.agents.find((a) => a.id === u.agent)?.name || u.agent) : "",
      u.disabled ? el("span", { class: "badge bad" }, t("Disabled")) : el("span", { class: "badge ok" }, t("Active")),
    ],
    fill(f, u) {
      agentOptions();
      f.elements.username.value = u ? u.username : "";
      f.elements.username.disabled = Boolean(u);
      f.elements.password.value = "";
      f.elements.password.required = !u;
      role.value = u ? u.role : "agent";
      agentSelect.value = u && u.agent ? u.agent : "";
      f.elements.disabled.checked = Boolean(u && u.disabled);
    },
    read(f, u) {
      const errors = {};
      if (role.value === "agent" && !agentSelect.value) errors.agent = t("Choose the agent this user works as.");
      if (!u && role.value !== "agent" && agentSelect.value) errors.agent = t("Only an agent user is linked to an agent.");
      if (u && u.id === data.me.id && (role.value !== "admin" || f.elements.disabled.checked)) {
        errors.role = t("You cannot demote or disable yourself.");
      }
      const body = u
        ? { role: role.value, disabled: f.elements.disabled.checked, ...(agentSelect.value ? { agent: agentSelect.value } : {}) }
        : { username: f.elements.username.value.trim(), password: f.elements.password.value, role: role.value,
          agent: agentSelect.value || null };
      return { body, errors };
    },
    async save(body, u) {
      if (!u) return api.post("/users", body);
      const saved = await api.patch(`/users/${encodeURIComponent(u.id)}`, body);
      const password = form.elements.password.value;
      if (password) await api.post(`/users/${encodeURIComponent(u.id)}/password`, { password });
      return saved;
    },
  });
  return { ...section, agentsChanged: agentOptions };
}

export function agentsSection(data, onChange) {
  const form = document.getElementById("agents-form");
  const skills = skillsEditor(form.querySelector(".skills-editor"));
  const statusLabels = { ready: t("Ready"), not_ready: t("Not ready"), offline: t("Offline") };

  const section = crudSection({
    id: "agents",
    path: "/agents",
    load: () => api.get("/agents"),
    label: (a) => a.name,
    cells: (a) => [
      a.name,
      Object.entries(a.skills).map(([k, v]) => `${k} ${v}`).join(", "),
      CHANNELS.filter((c) => a.capacity && c in a.capacity)
        .map((c) => `${optionLabel(c)} ${a.capacity[c]}`).join(" · "),
      el("span", { class: `badge ${a.status === "ready" ? "ok" : a.status === "not_ready" ? "warn" : ""}` },
        statusLabels[a.status] || a.status),
    ],
    fill(f, a) {
      skills.catalogue(data.skills);
      f.elements.name.value = a ? a.name : "";
      skills.set(a ? a.skills : {});
      const cap = a && a.capacity ? a.capacity : DEFAULT_CAPACITY;
      for (const c of CHANNELS) f.elements[`capacity.${c}`].value = String(cap[c] ?? 0);
    },
    read(f) {
      const capacity = {};
      for (const c of CHANNELS) capacity[c] = Number(f.elements[`capacity.${c}`].value);
      return { body: { name: f.elements.name.value.trim(), skills: skills.value(), capacity },
        errors: skills.errors() };
    },
    received: (agents) => { data.agents = agents; },
    loaded: () => onChange(),
  });

  function optionLabel(channel) {
    return form.querySelector(`label[for="cap-${channel}"]`).textContent;
  }
  return section;
}
