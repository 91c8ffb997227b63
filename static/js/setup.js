// The set-up panels (Task, Architecture, Rule, Training) built from the catalog: pickers, generated forms, the
// one-line summary. Whether the set-up is shown is layout.js's; what a set-up change does to a live run is
// controls.js's (notify "lr" and "changed", store.js).

import { $, app, notify } from "./store.js";
import { buildForm } from "./forms.js";
import { GROUPS, writeHash } from "./state.js";
import { schedulePreview } from "./preview.js";
import { scheduleEstimate } from "./estimate.js";
import { kinshipNote } from "./kinship.js";

function entry(kind, name) {
  return app.catalog[kind].find((e) => e.name === name);
}

function compatibleRules(arch) {
  const list = app.catalog.compatibility?.[arch];
  return Array.isArray(list) ? list : app.catalog.rules.filter((r) => (r.supports || []).includes(arch)).map((r) => r.name);
}

function fillSelect(sel, entries, value) {
  sel.replaceChildren();
  for (const e of entries) {
    const o = document.createElement("option");
    o.value = e.name;
    o.textContent = e.name;
    sel.append(o);
  }
  sel.value = value;
}

function describe(el, e) {
  el.replaceChildren();
  if (!e) return;
  el.append(document.createTextNode(e.description || ""));
  if (e.reference) {
    const ref = document.createElement("span");
    ref.className = "ref";
    ref.textContent = ` (${e.reference})`;
    el.append(ref);
  }
}

function countLabel(details, n) {
  details.querySelector(".count").textContent = n ? `(${n})` : "(none)";
}

function buildGroup(group) {
  const settings = groupSettings(group);
  const container = document.querySelector(`.fields[data-group="${group}"]`);
  const values = group === "run" ? app.setup.run : app.setup[group];
  app.forms[group] = buildForm(container, group, settings, values, onField);
  const v = app.forms[group].values();
  if (group === "run") app.setup.run = v;
  else app.setup[group] = v;
}

function groupSettings(group) {
  switch (group) {
    case "task_config":
      return entry("tasks", app.setup.task)?.settings || [];
    case "arch_config": {
      // A task may bring its own defaults for network settings (catalog "network", e.g. Add's α = 0.5): the form
      // shows those, as the engine would use them, so the page and the CLI start the same network.
      const own = entry("tasks", app.setup.task)?.network || {};
      return (entry("archs", app.setup.arch)?.settings || []).map((s) =>
        Object.prototype.hasOwnProperty.call(own, s.name) ? { ...s, default: own[s.name] } : s);
    }
    case "rule_config": {
      // A rule that runs on this network through a variant (e-prop on spiking units) shows the variant's settings.
      const rule = entry("rules", app.setup.rule);
      return rule?.variants?.[app.setup.arch]?.settings || rule?.settings || [];
    }
    case "optim":
      return app.catalog.optim || [];
    case "run":
      // The engine's RunSpec defaults (steps, alignment_every, …) as the catalog states them: one set of defaults
      // for the page and the CLI.
      return app.catalog.run || [];
    default:
      return [];
  }
}

function buildRuleList() {
  const list = $("rule-list");
  list.replaceChildren();
  const ok = compatibleRules(app.setup.arch);
  for (const r of app.catalog.rules) {
    const id = `rule-${r.name}`;
    const row = document.createElement("div");
    row.className = "rule-option";
    const input = document.createElement("input");
    input.type = "radio";
    input.name = "rule";
    input.id = id;
    input.value = r.name;
    input.checked = r.name === app.setup.rule;
    const label = document.createElement("label");
    label.htmlFor = id;
    const sw = document.createElement("span");
    sw.className = "swatch";
    sw.style.background = app.colours[r.name];
    sw.setAttribute("aria-hidden", "true");
    const name = document.createElement("span");
    name.className = "rule-name";
    name.textContent = r.name;
    const tags = document.createElement("span");
    tags.className = "rule-tags";
    tags.textContent = [r.exact ? "exact" : "approximation", r.online ? "online" : null].filter(Boolean).join(" · ");
    label.append(sw, name, tags);
    row.append(input, label);
    if (!ok.includes(r.name)) {
      const reason = `${r.name} cannot train the ${app.setup.arch} architecture (it supports: ${(r.supports || []).join(", ") || "none"}).`;
      input.disabled = true;
      row.classList.add("is-disabled");
      row.title = reason;
      const why = document.createElement("span");
      why.className = "reason";
      why.id = `${id}-why`;
      why.textContent = `Not for ${app.setup.arch}: supports ${(r.supports || []).join(", ") || "nothing yet"}.`;
      const sr = document.createElement("span");
      sr.className = "sr-only";
      sr.textContent = reason;
      why.append(sr);
      input.setAttribute("aria-describedby", why.id);
      label.append(why);
    }
    input.addEventListener("change", () => {
      if (input.checked) pickRule(r.name);
    });
    list.append(row);
  }
  document.documentElement.style.setProperty("--rule-colour", app.colours[app.setup.rule] || "#000");
}

export function pickTask(name) {
  // Network settings the old or the new task brings its own default for go back to the (new) default.
  const own = { ...(entry("tasks", app.setup.task)?.network || {}), ...(entry("tasks", name)?.network || {}) };
  app.setup.task = name;
  $("pick-task").value = name; // when picked in the one-line set-up
  app.setup.task_config = {};
  if (Object.keys(own).length) {
    for (const k of Object.keys(own)) delete app.setup.arch_config[k];
    buildGroup("arch_config");
  }
  describe($("task-desc"), entry("tasks", name));
  buildGroup("task_config");
  countLabel($("settings-task"), groupSettings("task_config").length);
  changed();
  schedulePreview(0);
}

export function pickArch(name) {
  app.setup.arch = name;
  $("pick-arch").value = name;
  app.setup.arch_config = {};
  describe($("arch-desc"), entry("archs", name));
  buildGroup("arch_config");
  countLabel($("settings-arch"), groupSettings("arch_config").length);
  const ok = compatibleRules(name);
  if (!ok.includes(app.setup.rule)) {
    pickRule(ok[0] || app.catalog.rules[0]?.name, false);
  } else if (Object.keys(entry("rules", app.setup.rule)?.variants || {}).length) {
    pickRule(app.setup.rule, false);  // its settings depend on the network (a variant's own form)
  }
  buildRuleList();
  changed();
}

export function pickRule(name, rebuildList = true) {
  app.setup.rule = name;
  app.setup.rule_config = {};
  describe($("rule-desc"), entry("rules", name));
  buildGroup("rule_config");
  countLabel($("settings-rule"), groupSettings("rule_config").length);
  if (rebuildList) buildRuleList();
  changed();
}

let lrTimer = null;

function onField(group, name, value) {
  if (group === "run") app.setup.run[name] = value;
  else app.setup[group][name] = value;
  if (group === "task_config" || (group === "run" && name === "seed")) schedulePreview(250);
  if (group === "optim" && name === "lr") {
    $("live-lr").value = value ?? "";
    clearTimeout(lrTimer);
    lrTimer = setTimeout(() => notify("lr", value), 300);
  }
  changed();
}

/** Where the picked rule is the same algorithm as another (kinship.js), say so under its description. */
function noteKinship() {
  const r = entry("rules", app.setup.rule);
  $("rule-kin").textContent = kinshipNote(app.setup.rule, app.setup.rule_config, r?.description || "");
}

/** Any setup change: new URL hash, status text (a stale run says so), the one-line set-up. */
export function changed() {
  noteKinship();
  writeHash(app.setup, app.runId);
  if (!app.runId) app.dash?.setTask(entry("tasks", app.setup.task)); // a run shows its own task's lines
  scheduleEstimate();
  summarise();
  notify("changed");
}

/**
 * The one-line set-up (task → network → rule) whose pickers work in place: the same choices as the panels, for
 * when the panels are folded (presenter mode). A rule the network cannot train is listed, disabled, with the reason.
 */
function summarise() {
  fillSelect($("quick-task"), app.catalog.tasks, app.setup.task);
  fillSelect($("quick-arch"), app.catalog.archs, app.setup.arch);
  const ok = compatibleRules(app.setup.arch);
  const rules = $("quick-rule");
  fillSelect(rules, app.catalog.rules, app.setup.rule);
  for (const o of rules.options) {
    o.disabled = !ok.includes(o.value);
    if (o.disabled) {
      // short, so the one line stays one line at 1024 px; the reason in full as its tooltip
      o.textContent = `${o.value} (not here)`;
      o.title = `${o.value} cannot train ${app.setup.arch}: pick another network for it`;
    }
  }
  $("quick-rule-swatch").style.background = app.colours[app.setup.rule] || "#000";
}

export function applySetup(setup) {
  const pick = (kind, wanted, prefer) => {
    const names = app.catalog[kind].map((e) => e.name);
    if (wanted && names.includes(wanted)) return wanted;
    return prefer.find((p) => names.includes(p)) || names[0];
  };
  app.setup.task = pick("tasks", setup.task, ["dnms"]);
  app.setup.arch = pick("archs", setup.arch, ["rnn"]);
  const ok = compatibleRules(app.setup.arch);
  app.setup.rule = setup.rule && ok.includes(setup.rule) ? setup.rule : ["eprop", ...ok].find((r) => ok.includes(r));
  for (const g of GROUPS) app.setup[g] = { ...(setup[g] || {}) };
  app.setup.run = { ...(setup.run || {}) };

  fillSelect($("pick-task"), app.catalog.tasks, app.setup.task);
  fillSelect($("pick-arch"), app.catalog.archs, app.setup.arch);
  describe($("task-desc"), entry("tasks", app.setup.task));
  describe($("arch-desc"), entry("archs", app.setup.arch));
  describe($("rule-desc"), entry("rules", app.setup.rule));
  for (const g of [...GROUPS, "run"]) buildGroup(g);
  countLabel($("settings-task"), groupSettings("task_config").length);
  countLabel($("settings-arch"), groupSettings("arch_config").length);
  countLabel($("settings-rule"), groupSettings("rule_config").length);
  countLabel($("settings-train"), groupSettings("optim").length + groupSettings("run").length);
  buildRuleList();
  $("live-lr").value = app.setup.optim.lr ?? "";
  writeHash(app.setup, app.runId);
  if (!app.runId) app.dash?.setTask(entry("tasks", app.setup.task));
  scheduleEstimate();
  noteKinship();
  summarise();
}
