// The supervisor's actions, in one modal <dialog> (keyboard: Tab moves, Esc
// closes, focus returns to the button that opened it). Every action that
// changes the contact center asks for confirmation first:
// - an agent: not ready with a reason, logged out (POST /agents/{id}/status),
//   its skills (PUT /agents/{id}/skills);
// - a queue: its waiting contacts, each movable to another queue (POST
//   /interactions/{id}/move), and its thresholds (PUT /queues/{id}/thresholds).
// The server's error is shown next to the field it names.

import { api, ApiError } from "../api.js";
import { formatDuration, formatNumber, metric, t } from "../i18n.js";
import { $, clearFieldErrors, el, firstFocusable, replace, showFieldErrors, toast, toastError } from "../ui.js";
import { words } from "./render.js";

const THRESHOLD_FIGURES = [
  // figure, unit shown, scale from the input to the API (percent -> fraction)
  ["service_level", "%", 0.01], ["asa_s", "s", 1], ["abandon_rate", "%", 0.01],
  ["longest_wait_s", "s", 1], ["waiting", "", 1],
];

export class Actions {
  /** `board`: {queue(id), agent(id), queues(), changed({queue?, agent?})}. */
  constructor(board) {
    this.board = board;
    this.dialog = $("#wb-dialog");
    this.title = $("#wb-dialog-title");
    this.body = $("#wb-dialog-body");
    this.opener = null;
    $("#wb-dialog-close").addEventListener("click", () => this.dialog.close());
    this.dialog.addEventListener("close", () => {
      replace(this.body);
      if (this.opener && this.opener.isConnected) this.opener.focus();
    });
  }

  open(title, ...sections) {
    this.opener = document.activeElement;
    this.title.textContent = title;
    replace(this.body, ...sections);
    if (!this.dialog.open) this.dialog.showModal();
    const first = firstFocusable(this.body);
    if (first) first.focus();
  }

  /**
   * Ask before acting: the form's buttons give way to "question? Confirm / Back".
   * `run` performs the action (an API call); on success `done` (message) is toasted.
   */
  confirm(form, question, run, done) {
    const bar = $(".wb-actions", form);
    const previous = [...bar.childNodes];
    const back = () => { replace(bar, ...previous); previous.find((n) => n.tagName === "BUTTON")?.focus(); };
    const yes = el("button", { type: "button", class: "button primary" }, t("Confirm"));
    yes.addEventListener("click", async () => {
      yes.disabled = true;
      clearFieldErrors(form);
      try {
        await run();
        toast(done, { kind: "success" });
        this.dialog.close();
      } catch (err) {
        back();
        if (err instanceof ApiError && err.status !== 0) showFieldErrors(form, err);
        else toastError(err);
      }
    });
    replace(bar, el("p", { class: "wb-question", role: "alert" }, question), yes,
      el("button", { type: "button", class: "button", onclick: back }, t("Back")));
    yes.focus();
  }

  // ---------------------------------------------------------------- agents
  async openAgent(id) {
    const agent = this.board.agent(id);
    if (!agent) return;
    const status = this.statusForm(agent);
    const skills = this.skillsForm(agent);
    this.open(t("Agent {name}", { name: agent.name }),
      el("p", { class: "muted" }, `${words.presence()[agent.presence]} · ${words.status()[agent.status]}${agent.reason ? ` · ${agent.reason}` : ""}`),
      status, skills);
    this.loadReasons(status);
    this.loadSkills(skills, agent);
  }

  statusForm(agent) {
    const reason = el("input", { id: "wb-reason", name: "reason", list: "wb-reasons", required: true, maxlength: 100, autocomplete: "off" });
    const form = el("form", { class: "wb-form", "aria-labelledby": "wb-status-h", novalidate: true },
      el("h3", { id: "wb-status-h" }, t("Status")),
      el("div", { class: "field" }, el("label", { for: "wb-reason" }, t("Not-ready reason")), reason,
        el("datalist", { id: "wb-reasons" })),
      el("div", { class: "wb-actions row" },
        el("button", { type: "submit", class: "button" }, t("Set not ready")),
        el("button", { type: "button", class: "button danger", "data-action": "logout" }, t("Log out"))));
    const post = (body) => api.post(`/agents/${agent.id}/status`, body).then(() => this.board.changed({ agent: agent.id }));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const why = reason.value.trim();
      if (!why) { showFieldErrors(form, { reason: t("Give a reason.") }); return; }
      this.confirm(form, t("Set {name} not ready ({reason})?", { name: agent.name, reason: why }),
        () => post({ status: "not_ready", reason: why }), t("{name} is not ready.", { name: agent.name }));
    });
    $("[data-action=logout]", form).addEventListener("click", () => {
      this.confirm(form, t("Log {name} out?", { name: agent.name }),
        () => post({ status: "offline" }), t("{name} is logged out.", { name: agent.name }));
    });
    return form;
  }

  async loadReasons(form) {
    try {
      const codes = await api.get("/reason-codes", undefined, { noRedirect: true });
      replace($("#wb-reasons", form), ...codes.map((c) => el("option", { value: c.code }, c.label)));
    } catch {
      // no reason codes configured (or not readable): free text only
    }
  }

  skillsForm(agent) {
    const list = el("div", { class: "wb-skills", role: "group", "aria-labelledby": "wb-skills-h" });
    const add = el("select", { id: "wb-skill-add", name: "add" });
    const form = el("form", { class: "wb-form", "aria-labelledby": "wb-skills-h", novalidate: true },
      el("h3", { id: "wb-skills-h" }, t("Skills")),
      list,
      el("div", { class: "row" }, el("label", { for: "wb-skill-add" }, t("Add a skill")), add,
        el("button", { type: "button", class: "button small", "data-action": "add" }, t("Add"))),
      el("div", { class: "wb-actions row" }, el("button", { type: "submit", class: "button primary" }, t("Save skills"))));
    const row = (name, lvl) => el("div", { class: "field wb-skill", dataset: { skill: name } },
      el("label", { for: `wb-skill-${name}` }, name),
      el("div", { class: "row" },
        el("input", { id: `wb-skill-${name}`, name: `skills.${name}`, type: "number", min: 1, max: 10, step: 1, value: lvl, required: true }),
        el("button", { type: "button", class: "button small", "aria-label": t("Remove skill {name}", { name }), onclick: (e) => e.target.closest(".wb-skill").remove() }, t("Remove"))));
    for (const [name, lvl] of Object.entries(agent.skills).sort()) list.append(row(name, lvl));
    $("[data-action=add]", form).addEventListener("click", () => {
      const name = add.value;
      if (!name || $(`[data-skill="${CSS.escape(name)}"]`, list)) return;
      list.append(row(name, 5));
      $(`#wb-skill-${CSS.escape(name)}`, list).focus();
    });
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const skills = {};
      for (const input of list.querySelectorAll("input")) skills[input.name.slice(7)] = Number(input.value);
      const text = Object.entries(skills).map(([k, v]) => `${k} ${v}`).join(", ") || t("no skills");
      this.confirm(form, t("Give {name} these skills: {skills}?", { name: agent.name, skills: text }),
        () => api.put(`/agents/${agent.id}/skills`, { skills }).then(() => this.board.changed({ agent: agent.id })),
        t("{name}'s skills are changed.", { name: agent.name }));
    });
    return form;
  }

  async loadSkills(form, agent) {
    try {
      const names = (await api.get("/skills")).map((s) => s.name).filter((n) => !(n in agent.skills));
      replace($("#wb-skill-add", form), ...names.map((n) => el("option", { value: n }, n)));
    } catch (err) {
      toastError(err);
    }
  }

  // ---------------------------------------------------------------- queues
  async openQueue(id) {
    const queue = this.board.queue(id);
    if (!queue) return;
    const waiting = el("section", { class: "wb-waiting", "aria-labelledby": "wb-waiting-h" },
      el("h3", { id: "wb-waiting-h" }, t("Waiting contacts")), el("p", { class: "muted" }, t("Loading…")));
    this.open(t("Queue {name}", { name: queue.name }), waiting, this.thresholdsForm(queue));
    try {
      const page = await api.get("/interactions", { state: "queued", queue: id, limit: 100 });
      this.showWaiting(waiting, queue, page.items.filter((i) => i.state === "queued")
        .sort((a, b) => (a.position || 0) - (b.position || 0)));
    } catch (err) {
      toastError(err);
    }
  }

  showWaiting(section, queue, items) {
    const others = this.board.queues().filter((q) => q.id !== queue.id);
    const now = Date.now() / 1000;
    if (!items.length) {
      replace(section, section.firstChild, el("p", { class: "muted" }, t("No contact is waiting.")));
      return;
    }
    const rows = items.map((it) => {
      const target = el("select", { id: `wb-move-${it.id}`, name: "queue", "aria-label": t("Move to queue") },
        ...others.map((q) => el("option", { value: q.id }, q.name)));
      const form = el("form", { class: "wb-form wb-move", novalidate: true, dataset: { interaction: it.id } },
        el("span", { class: "wb-contact" }, [`#${formatNumber(it.position || 0)}`, words.channel()[it.channel] || it.channel,
          t("waiting {time}", { time: formatDuration(now - it.enqueued_at) })].join(" · ")),
        el("div", { class: "field" }, target),
        el("div", { class: "wb-actions row" }, el("button", { type: "submit", class: "button small" }, t("Move"))));
      form.addEventListener("submit", (e) => {
        e.preventDefault();
        const to = this.board.queue(target.value);
        this.confirm(form, t("Move this contact to {queue}?", { queue: to ? to.name : target.value }),
          () => api.post(`/interactions/${it.id}/move`, { queue: target.value })
            .then(() => this.board.changed({ queue: queue.id })),
          t("The contact is moved to {queue}.", { queue: to ? to.name : target.value }));
      });
      return form;
    });
    replace(section, section.firstChild, ...rows);
  }

  thresholdsForm(queue) {
    const inputs = [];
    const rows = THRESHOLD_FIGURES.map(([figure, unit, scale]) => {
      const bounds = queue.thresholds[figure] || {};
      const m = metric(figure);
      const cell = (name) => {
        const v = bounds[name];
        const input = el("input", { id: `wb-th-${figure}-${name}`, name: `${figure}.${name}`, type: "number", min: 0,
          step: "any", inputmode: "decimal", value: v === undefined ? "" : String(Math.round((v / scale) * 1000) / 1000),
          "aria-label": `${m.name}: ${name === "amber" ? t("Amber") : t("Red")}${unit ? ` (${unit})` : ""}` });
        inputs.push([figure, name, scale, input]);
        return el("td", {}, input);
      };
      return el("tr", {}, el("th", { scope: "row", title: m.definition }, m.name, unit ? ` (${unit})` : ""), cell("amber"), cell("red"));
    });
    const form = el("form", { class: "wb-form", "aria-labelledby": "wb-th-h", novalidate: true },
      el("h3", { id: "wb-th-h" }, t("Thresholds")),
      el("p", { class: "muted" }, t("The service level turns amber or red below its levels; the other figures above theirs. Leave a box empty for no threshold.")),
      el("table", { class: "wb-thresholds" },
        el("thead", {}, el("tr", {}, el("th", { scope: "col" }, t("Figure")), el("th", { scope: "col" }, t("Amber")), el("th", { scope: "col" }, t("Red")))),
        el("tbody", {}, ...rows)),
      el("div", { class: "wb-actions row" }, el("button", { type: "submit", class: "button primary" }, t("Save thresholds"))));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const body = {};
      for (const [figure, name, scale, input] of inputs) {
        if (input.value.trim() === "") continue;
        body[figure] = body[figure] || {};
        body[figure][name] = Number(input.value) * scale;
      }
      clearFieldErrors(form);
      try {
        await api.put(`/queues/${queue.id}/thresholds`, body);
        this.board.changed({ queue: queue.id });
        toast(t("Thresholds saved."), { kind: "success" });
        this.dialog.close();
      } catch (err) {
        if (err instanceof ApiError && err.status !== 0) showFieldErrors(form, err);
        else toastError(err);
      }
    });
    return form;
  }
}
