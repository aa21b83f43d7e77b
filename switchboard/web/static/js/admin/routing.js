// Queues: strategy, skills, timers, expansion steps (bullseye) and overflow.

import { api } from "../api.js";
import { formatDurationWords, t, tn } from "../i18n.js";
import { $$, el } from "../ui.js";
import { crudSection } from "./crud.js";
import { fillSelect, numberOrNull, parseSkillText, skillText, skillsEditor } from "./forms.js";
import { optionText } from "./people.js";

const DEFAULTS = { strategy: "longest_idle", ring_timeout_s: 20, wrapup_s: 0, sl_threshold_s: 20,
  timeout_s: null, max_length: null, priority_aging_s: 0, max_misses: 3, callback_ewt_s: null,
  join_rule: "always", leave_rule: "always", skills: {}, steps: [], overflow: [] };
const NUMBERS = ["ring_timeout_s", "wrapup_s", "sl_threshold_s", "timeout_s", "max_length",
  "priority_aging_s", "max_misses", "callback_ewt_s"];
const WEEK_S = 604800;

function multiSelect(name, label, options, chosen) {
  const id = `${name}-select`.replace(/[^\w-]/g, "-");
  return el("div", { class: "field" },
    el("label", { for: id }, label),
    el("select", { id, name, multiple: true, size: String(Math.min(4, Math.max(2, options.length))) },
      options.map(([v, text]) => el("option", { value: v, selected: chosen.includes(v) }, text))));
}

function numberField(name, label, value, attrs = {}) {
  const id = name.replace(/[^\w-]/g, "-");
  return el("div", { class: "field" },
    el("label", { for: id }, label),
    el("input", { id, name, type: "number", min: "0", max: String(WEEK_S), step: "any",
      value: value === null || value === undefined ? "" : String(value), ...attrs }));
}

export function queuesSection(data, onChange) {
  const form = document.getElementById("queues-form");
  const skills = skillsEditor(form.querySelector(".skills-editor"));
  const stepRows = form.querySelector(".step-rows");
  const overflowRows = form.querySelector(".overflow-rows");
  let editingId = null;

  const otherQueues = () => data.queues.filter((q) => q.id !== editingId).map((q) => [q.id, q.name]);
  const agents = () => data.agents.map((a) => [a.id, a.name]);

  function renumber(container, kind) {
    $$(`.${kind}-row`, container).forEach((row, i) => {
      for (const node of row.querySelectorAll("[name], [data-field]")) {
        for (const attr of ["name", "data-field", "id"]) {
          const v = node.getAttribute(attr);
          if (v) node.setAttribute(attr, v.replace(/\[\d+\]/, `[${i}]`).replace(/-\d+-/, `-${i}-`));
        }
      }
      for (const label of row.querySelectorAll("label[for]")) {
        label.setAttribute("for", label.getAttribute("for").replace(/-\d+-/, `-${i}-`));
      }
      row.querySelector("legend").textContent = kind === "step"
        ? t("Step {n}", { n: i + 1 }) : t("Rule {n}", { n: i + 1 });
    });
  }

  function addStep(step = { after_s: "", skills: null, add_queues: [], add_agents: [] }) {
    const i = stepRows.children.length;
    const row = el("fieldset", { class: "step-row" },
      el("legend", {}, t("Step {n}", { n: i + 1 })),
      el("div", { class: "form-grid" },
        numberField(`steps[${i}].after_s`, t("After waiting (s)"), step.after_s, { required: true }),
        el("div", { class: "field" },
          el("label", { for: `steps-${i}-skills` }, t("Skills instead (name:level)")),
          el("input", { id: `steps-${i}-skills`, name: `steps[${i}].skills`, value: skillText(step.skills),
            placeholder: t("unchanged"), autocomplete: "off" })),
        multiSelect(`steps[${i}].add_queues`, t("Add the agents of queues"), otherQueues(), step.add_queues || []),
        multiSelect(`steps[${i}].add_agents`, t("Add agents"), agents(), step.add_agents || [])),
      el("button", { type: "button", class: "button small secondary", onclick: () => {
        row.remove(); renumber(stepRows, "step"); form.querySelector(".add-step").focus();
      } }, t("Remove this step")));
    stepRows.append(row);
    return row;
  }

  function addOverflow(rule = { to_queue: "", after_s: "", ewt_above_s: "" }) {
    const i = overflowRows.children.length;
    const select = el("select", { id: `overflow-${i}-to`, name: `overflow[${i}].to_queue`, required: true });
    fillSelect(select, [["", t("(choose a queue)")], ...otherQueues()], rule.to_queue || "");
    const row = el("fieldset", { class: "overflow-row" },
      el("legend", {}, t("Rule {n}", { n: i + 1 })),
      el("div", { class: "form-grid" },
        el("div", { class: "field" }, el("label", { for: `overflow-${i}-to` }, t("Move to queue")), select),
        numberField(`overflow[${i}].after_s`, t("After waiting (s)"), rule.after_s, { "data-field": `overflow[${i}]` }),
        numberField(`overflow[${i}].ewt_above_s`, t("Or on arrival when the estimated wait passes (s)"), rule.ewt_above_s)),
      el("button", { type: "button", class: "button small secondary", onclick: () => {
        row.remove(); renumber(overflowRows, "overflow"); form.querySelector(".add-overflow").focus();
      } }, t("Remove this rule")));
    overflowRows.append(row);
    return row;
  }

  form.querySelector(".add-step").addEventListener("click", () => addStep().querySelector("input").focus());
  form.querySelector(".add-overflow").addEventListener("click", () => addOverflow().querySelector("select").focus());

  function readSteps(errors) {
    const steps = [];
    $$(".step-row", stepRows).forEach((row, i) => {
      const f = (n) => row.querySelector(`[name="steps[${i}].${n}"]`);
      const after = numberOrNull(f("after_s"));
      let stepSkills = null;
      if (f("skills").value.trim()) {
        const parsed = parseSkillText(f("skills").value);
        if (parsed.error) errors[`steps[${i}].skills`] = parsed.error;
        else stepSkills = parsed.skills;
      }
      if (steps.length && after !== null && after < steps[steps.length - 1].after_s) {
        errors[`steps[${i}].after_s`] = t("Steps come in increasing order of waiting time.");
      }
      const chosen = (n) => Array.from(f(n).selectedOptions, (o) => o.value);
      steps.push({ after_s: after, skills: stepSkills, add_queues: chosen("add_queues"), add_agents: chosen("add_agents") });
    });
    return steps;
  }

  function readOverflow(errors) {
    return $$(".overflow-row", overflowRows).map((row, i) => {
      const f = (n) => row.querySelector(`[name="overflow[${i}].${n}"]`);
      const rule = { to_queue: f("to_queue").value, after_s: numberOrNull(f("after_s")),
        ewt_above_s: numberOrNull(f("ewt_above_s")) };
      if (rule.after_s === null && rule.ewt_above_s === null) {
        errors[`overflow[${i}].after_s`] = t("Give a waiting time, an estimated wait, or both.");
      }
      return rule;
    });
  }

  function summary(q) {
    const steps = q.steps.length ? tn("{n} step", "{n} steps", q.steps.length) : "—";
    const overflow = q.overflow.map((r) => {
      const to = data.queues.find((x) => x.id === r.to_queue)?.name || r.to_queue;
      return r.after_s !== null ? t("to {queue} after {wait}", { queue: to, wait: formatDurationWords(r.after_s) })
        : t("to {queue} when the wait passes {wait}", { queue: to, wait: formatDurationWords(r.ewt_above_s) });
    }).join("; ") || "—";
    return [steps, overflow];
  }

  return crudSection({
    id: "queues",
    path: "/queues",
    load: () => api.get("/queues"),
    label: (q) => q.name,
    cells: (q) => [q.name, optionText(form.elements.strategy, q.strategy),
      Object.entries(q.skills).map(([k, v]) => `${k} ≥ ${v}`).join(", ") || "—", ...summary(q)],
    fill(f, q) {
      editingId = q ? q.id : null;
      const v = q || DEFAULTS;
      skills.catalogue(data.skills);
      f.elements.name.value = q ? q.name : "";
      for (const name of ["strategy", "join_rule", "leave_rule"]) f.elements[name].value = v[name];
      for (const name of NUMBERS) f.elements[name].value = v[name] === null ? "" : String(v[name]);
      skills.set(v.skills);
      stepRows.replaceChildren();
      overflowRows.replaceChildren();
      for (const step of v.steps) addStep(step);
      for (const rule of v.overflow) addOverflow(rule);
    },
    read(f) {
      const errors = { ...skills.errors() };
      const body = { name: f.elements.name.value.trim(), strategy: f.elements.strategy.value,
        join_rule: f.elements.join_rule.value, leave_rule: f.elements.leave_rule.value,
        skills: skills.value(), steps: readSteps(errors), overflow: readOverflow(errors) };
      for (const name of NUMBERS) body[name] = numberOrNull(f.elements[name]);
      return { body, errors };
    },
    received: (queues) => { data.queues = queues; },
    loaded: () => onChange(),
  });
}
