// Wiring: catalog → pickers and forms → URL hash; Play/Step/Reset → run lifecycle; websocket → dashboard.

import { api, ApiError } from "./api.js";
import { buildForm } from "./forms.js";
import { RunSocket } from "./socket.js";
import { Dashboard } from "./dashboard.js";
import { TrialChart } from "./plots/trial.js";
import { ruleColours, setProjector } from "./plots/common.js";
import { installKeyboard } from "./keyboard.js";
import {
  GROUPS, TOP_KEYS, emptySetup, fromSpec, hashChangedExternally, loadProjector, parseHash, saveProjector, specKey,
  toSpec, writeHash,
} from "./state.js";

const $ = (id) => document.getElementById(id);

/** Counters and state for people debugging and for the browser tests. */
const credit = {
  status: "loading",
  runId: null,
  step: 0,
  framesRendered: 0,
  curveFrames: 0,
  metricsReceived: 0,
  lossPoints: 0,
  heatmapFrames: 0,
  snapshotsReceived: 0,
  snapshotsDrawn: 0,
  snapshotsDropped: 0,
  snapshotStep: null,
  previews: 0,
  hellos: 0,
  ready: false,
  errors: [],
};
window.__credit = credit;

const app = {
  catalog: null,
  colours: {},
  setup: emptySetup(),
  forms: {},
  runId: null,
  runKey: null, // specKey of the spec the current run was created with
  run: null, // latest run info / status fields
  socket: null,
  connection: "none",
  busy: false,
  createdHere: new Set(),
  message: null,
};

let dash;
let trialChart;

// ---------------------------------------------------------------------------------------------------------------
// Status line and buttons

const TERMINAL = new Set(["done", "diverged", "stopped", "error"]);
const LIVE = new Set(["queued", "paused", "running"]);

/** The learning rate in the form, if it is a valid number and differs from what the run uses. */
function pendingLr() {
  const lr = app.setup.optim?.lr;
  return Number.isFinite(lr) && lr > 0 && app.run && lr !== app.run.lr ? lr : null;
}

function fmtLoss(v) {
  if (v === null || v === undefined || !Number.isFinite(v)) return v === null ? "not a number" : "–";
  if (v === 0) return "0";
  return v >= 1e4 || v < 0.001 ? v.toExponential(1).replace("+", "") : String(Number(v.toPrecision(2)));
}

function fmtAcc(v) {
  return v === null || v === undefined || !Number.isFinite(v) ? "–" : `${Math.round(100 * v)} %`;
}

function isStale() {
  return Boolean(app.runId && app.runKey && app.runKey !== specKey(toSpec(app.setup)));
}

function ruleTitle(name) {
  const r = app.catalog?.rules.find((x) => x.name === name);
  return r ? r.name : name;
}

function statusView() {
  const s = app.run?.status;
  const step = app.run?.step ?? credit.step;
  if (!app.catalog) return ["loading", "Loading the catalog…"];
  if (app.message) return [app.message.kind, app.message.text];
  if (!app.runId) return ["empty", `Ready. Press Play to train ${app.setup.arch} on ${app.setup.task} with ${ruleTitle(app.setup.rule)}.`];
  if (app.connection === "gone") return ["error", "This run is no longer on the server. Press Play to start a new one."];
  const stale = isStale() ? " Settings changed: Play starts a new run with them." : "";
  if (!s) return ["loading", "Connecting to the run…"];
  if (app.connection === "reconnecting") return ["loading", "Connection lost. Reconnecting…"];
  switch (s) {
    case "queued": {
      const pos = app.run.queue_position;
      if (!pos) return ["queued", "Starting a trainer for this run (a few seconds)…"];
      return ["queued", `Waiting for a free trainer: number ${pos} in the queue. It starts by itself.`];
    }
    case "paused":
      return ["paused", (step ? `Paused at update ${step}. Press Play (Space) to go on, or Step (S).` : "Ready at update 0. Press Play (Space), or Step (S) for one update.") + stale];
    case "running":
      return ["running", `Training: update ${step}.${stale}`];
    case "done":
      return ["done", `Finished after ${step} updates. Loss ${fmtLoss(dash.latest.loss)}, right ${fmtAcc(dash.latest.accuracy)}. Reset (R) to watch it again.${stale}`];
    case "diverged":
      return ["diverged", `The network blew up at update ${step}: its numbers grew beyond what a computer can hold (loss is not a number). Try a smaller learning rate, then Reset (R).${stale}`];
    case "stopped":
      return ["stopped", `This run was stopped at update ${step}. Reset (R) to start it over.${stale}`];
    case "error":
      return ["error", `Something went wrong in the trainer${app.run.message ? `: ${app.run.message}` : "."} Reset (R) or change a setting and press Play.`];
    default:
      return ["paused", `Status: ${s}.`];
  }
}

function setDisabled(btn, reasonEl, reason) {
  if (reason) {
    btn.setAttribute("aria-disabled", "true");
    btn.title = reason;
    reasonEl.textContent = reason;
  } else {
    btn.removeAttribute("aria-disabled");
    btn.title = btn.dataset.tip || "";
    reasonEl.textContent = "";
  }
}

function render() {
  const [kind, text] = statusView();
  const bar = $("status");
  bar.dataset.state = kind;
  if ($("status-text").textContent !== text) $("status-text").textContent = text;
  credit.status = app.run?.status || (app.catalog ? "empty" : "loading");
  credit.runId = app.runId;
  if (dash && app.run && app.run.status !== "running") {
    credit.step = Math.max(dash.latest.step || 0, app.run.step || 0);
    $("stat-step").textContent = String(credit.step);
  }

  const s = app.run?.status;
  const running = s === "running";
  const play = $("btn-play");
  play.disabled = !app.catalog;
  play.querySelector(".label").textContent = running ? "Pause" : "Play";
  play.title = running ? "Pause (Space)" : "Play (Space)";
  play.classList.toggle("is-running", running);

  let stepReason = null;
  if (!app.catalog) stepReason = "The lab is still loading.";
  else if (running) stepReason = "Step is only available while paused. Pause first (Space).";
  else if (s === "queued") stepReason = "The run is waiting in the queue.";
  else if (app.runId && !isStale() && TERMINAL.has(s)) stepReason = "This run has ended. Reset it first (R).";
  const step = $("btn-step");
  step.disabled = false;
  setDisabled(step, $("step-reason"), stepReason);

  let resetReason = null;
  if (!app.runId) resetReason = "Nothing to reset yet: no run has started.";
  const reset = $("btn-reset");
  reset.disabled = false;
  setDisabled(reset, $("reset-reason"), resetReason);
}

function showStats(latest) {
  const step = latest.step || 0;
  credit.step = Math.max(step, app.run?.step || 0);
  $("stat-step").textContent = String(credit.step);
  $("stat-loss").textContent = latest.loss === undefined ? "–" : step ? fmtLoss(latest.loss) : "–";
  $("stat-acc").textContent = step ? fmtAcc(latest.accuracy) : "–";
  if (app.run && app.run.status === "running" && step > (app.run.step || 0)) {
    app.run.step = step;
    render();
  }
}

function say(kind, text) {
  app.message = text ? { kind, text } : null;
  render();
}

// ---------------------------------------------------------------------------------------------------------------
// Pickers and forms

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
    case "arch_config":
      return entry("archs", app.setup.arch)?.settings || [];
    case "rule_config":
      return entry("rules", app.setup.rule)?.settings || [];
    case "optim":
      return app.catalog.optim || [];
    case "run":
      return (app.catalog.run || []).map((s) =>
        // The lab measures alignment with BPTT every 10 updates unless told otherwise: it is the point of the lab.
        s.name === "alignment_every" && !s.default ? { ...s, default: 10 } : s);
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

function pickTask(name) {
  app.setup.task = name;
  app.setup.task_config = {};
  describe($("task-desc"), entry("tasks", name));
  buildGroup("task_config");
  countLabel($("settings-task"), groupSettings("task_config").length);
  changed();
  schedulePreview(0);
}

function pickArch(name) {
  app.setup.arch = name;
  app.setup.arch_config = {};
  describe($("arch-desc"), entry("archs", name));
  buildGroup("arch_config");
  countLabel($("settings-arch"), groupSettings("arch_config").length);
  const ok = compatibleRules(name);
  if (!ok.includes(app.setup.rule)) {
    pickRule(ok[0] || app.catalog.rules[0]?.name, false);
  }
  buildRuleList();
  changed();
}

function pickRule(name, rebuildList = true) {
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
    lrTimer = setTimeout(() => sendLr(value), 300);
  }
  changed();
}

/** Any setup change: new URL hash, status text (a stale run says so), the one-line summary. */
function changed() {
  writeHash(app.setup, app.runId);
  summarise();
  render();
}

function summarise() {
  const el = $("setup-summary");
  el.replaceChildren();
  const part = (label, value) => {
    const span = document.createElement("span");
    span.textContent = `${label} ${value}`;
    return span;
  };
  const arrow = () => {
    const a = document.createElement("span");
    a.className = "sep";
    a.setAttribute("aria-hidden", "true");
    a.textContent = "→";
    return a;
  };
  const sw = document.createElement("span");
  sw.className = "swatch";
  sw.style.background = app.colours[app.setup.rule] || "#000";
  sw.setAttribute("aria-hidden", "true");
  const rule = part("rule", app.setup.rule);
  rule.prepend(sw, " ");
  el.append(part("task", app.setup.task), arrow(), part("network", app.setup.arch), arrow(), rule);
}

const SETUP_KEY = "creditlab.setupOpen";

function setSetupOpen(open) {
  $("pipeline").hidden = !open;
  $("btn-setup").setAttribute("aria-expanded", String(open));
  $("btn-setup").querySelector(".label").textContent = open ? "Hide set-up" : "Show set-up";
  try {
    localStorage.setItem(SETUP_KEY, open ? "1" : "0");
  } catch {
    /* not remembered in private mode */
  }
}

function applySetup(setup) {
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
  summarise();
}

// ---------------------------------------------------------------------------------------------------------------
// Errors next to the fields they name

function clearFieldErrors() {
  for (const f of Object.values(app.forms)) f.clearErrors();
  $("general-error").textContent = "";
}

/** Place each {path, msg} next to its field; what names no field goes under the Training panel. */
function showFieldErrors(err) {
  const fields = err.fields && err.fields.length ? err.fields : [{ path: "", msg: err.message }];
  const general = [];
  let first = null;
  for (let { path, msg } of fields) {
    if (!path) {
      const m = /^([A-Za-z_][\w.]*):\s*(.*)$/s.exec(msg || "");
      if (m) [path, msg] = [m[1], m[2]];
    }
    const parts = (path || "").split(".").filter(Boolean);
    let placed = false;
    if (parts.length >= 2 && app.forms[parts[0]]) {
      placed = app.forms[parts[0]].setError(parts[1], msg);
      if (placed) first = first || app.forms[parts[0]].fields.get(parts[1]).el;
    } else if (parts.length === 1 && app.forms[parts[0]] && parts[0] !== "run") {
      placed = app.forms[parts[0]].setGroupError(msg);
    } else if (parts.length >= 1 && TOP_KEYS.includes(parts[0]) && app.forms.run) {
      placed = app.forms.run.setError(parts[0], msg);
      if (placed) first = first || app.forms.run.fields.get(parts[0]).el;
    }
    if (!placed) general.push(path ? `${path}: ${msg}` : msg);
  }
  if (fields.length && $("pipeline").hidden) setSetupOpen(true);
  $("general-error").textContent = general.join(" ");
  if (first) {
    first.scrollIntoView({ block: "center", behavior: "instant" });
    first.focus({ preventScroll: true });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Trial preview (before training)

let previewTimer = null;
let previewAbort = null;

function schedulePreview(delay) {
  clearTimeout(previewTimer);
  previewTimer = setTimeout(loadPreview, delay);
}

async function loadPreview() {
  if (previewAbort) previewAbort.abort();
  const ctl = new AbortController();
  previewAbort = ctl;
  const fig = $("chart-trial");
  fig.classList.add("is-loading");
  fig.querySelector("[data-empty]").textContent = "Loading an example trial…";
  try {
    const seed = Number.isFinite(app.setup.run.seed) ? app.setup.run.seed : 0;
    const p = await api.preview(app.setup.task, app.setup.task_config, seed, { signal: ctl.signal });
    if (ctl.signal.aborted) return;
    app.forms.task_config?.clearErrors();
    trialChart.draw(p);
    fig.classList.add("has-data");
    credit.previews += 1;
  } catch (err) {
    if (err.name === "AbortError") return;
    fig.classList.remove("has-data");
    if (err instanceof ApiError && err.status === 422) {
      showFieldErrors(err);
      fig.querySelector("[data-empty]").textContent = "Fix the highlighted task setting to see a trial.";
    } else {
      fig.querySelector("[data-empty]").textContent = `Could not load an example trial: ${err.message}`;
    }
  } finally {
    if (previewAbort === ctl) fig.classList.remove("is-loading");
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Runs

function attach(runId) {
  if (app.socket) app.socket.close();
  app.runId = runId;
  app.run = null;
  app.connection = "connecting";
  credit.runId = runId;
  writeHash(app.setup, runId);
  app.socket = new RunSocket(runId, {
    onHello: (msg) => {
      credit.hellos += 1;
      const info = msg.run || {};
      app.run = { ...info };
      if (info.spec && !app.runKey) {
        // Reconnected after a reload or opened from a shared link. A link that carries settings keeps them (if
        // they differ from the run's, the run is shown as stale and Play starts a new one); a bare "#run=…"
        // shows the run's own settings.
        const runSetup = fromSpec(info.spec);
        if (!app.hashHadSetup) {
          applySetup(runSetup);
          schedulePreview(0);
        }
        app.runKey = specKey(toSpec(runSetup));
      }
      if (!app.runKey) app.runKey = specKey(toSpec(app.setup));
      if (info.speed !== undefined) syncSpeed(info.speed);
      if (info.lr !== undefined && info.lr !== null) $("live-lr").value = info.lr;
      dash.reset(app.colours[info.spec?.rule || app.setup.rule], info.spec?.rule || app.setup.rule, msg.history || []);
      if (info.cost) dash.cost.update(info.cost);
      app.message = null;
      statusChanged();
      render();
    },
    onStatus: (msg) => {
      const prevStep = app.run?.step ?? 0;
      app.run = { ...(app.run || {}), ...msg };
      if (msg.step === 0 && prevStep > 0) {
        // Reset: start the charts over.
        dash.reset(app.colours[app.setup.rule], app.setup.rule, []);
      }
      if (msg.speed !== undefined) syncSpeed(msg.speed);
      if (msg.lr !== undefined && msg.lr !== null && document.activeElement !== $("live-lr")) $("live-lr").value = msg.lr;
      statusChanged();
      render();
    },
    onMetrics: (msg) => {
      dash.addRecords(msg.records || []);
      if (msg.diverged && app.run && app.run.status !== "diverged") {
        app.run.status = "diverged";
        render();
      }
    },
    onSnapshot: (frame) => dash.addSnapshot(frame, () => app.socket && app.socket.ack()),
    onServerError: (msg) => {
      credit.errors.push(msg.message);
      say("error", `The server says: ${msg.message}`);
      setTimeout(() => app.message && app.message.text.startsWith("The server says") && say(null, null), 6000);
    },
    onConnection: (state) => {
      app.connection = state;
      render();
    },
  });
  render();
}

async function createRun() {
  clearFieldErrors();
  const spec = toSpec(app.setup);
  const old = app.runId;
  const info = await api.createRun(spec);
  if (old && app.createdHere.has(old)) api.control(old, "stop").catch(() => {});
  app.createdHere.add(info.id);
  app.runKey = specKey(spec);
  dash.clearAll();
  dash.reset(app.colours[app.setup.rule], app.setup.rule, []);
  attach(info.id);
  app.run = { ...info };
  const speed = Number($("speed").value);
  if ((info.speed ?? 0) !== speed) await api.control(info.id, "speed", speed).catch(() => {});
  return info.id;
}

let queue = Promise.resolve();
let queued = 0;

/**
 * Run user actions one after another (a key pressed while a request is in flight is not lost: it runs next, and
 * decides what to do from the state at that time). Problems go to the status line or next to the field.
 */
function guarded(fn) {
  if (queued >= 3) return queue; // someone is hammering a key: drop the excess
  queued += 1;
  queue = queue.then(() => runGuarded(fn)).finally(() => (queued -= 1));
  return queue;
}

async function runGuarded(fn) {
  app.busy = true;
  app.message = null;
  render();
  try {
    await fn();
  } catch (err) {
    if (err instanceof ApiError && err.status === 422) {
      showFieldErrors(err);
      app.message = { kind: "error", text: "A setting is not allowed: see the message next to it." };
    } else if (err instanceof ApiError && err.status === 409) {
      app.message = { kind: "paused", text: err.message || "That is not possible right now." };
      setTimeout(() => say(null, null), 4000);
    } else {
      app.message = { kind: "error", text: err.message || String(err) };
    }
  } finally {
    app.busy = false;
    render();
  }
}

function needsNewRun() {
  return !app.runId || isStale() || app.connection === "gone" || app.run?.status === "error";
}

async function control(action, value) {
  const info = await api.control(app.runId, action, value);
  // The websocket may have said that the run ended (e.g. diverged at update 2) while this request was in flight;
  // the reply, written before that, must not bring the run back to life. Only a reset does.
  const ended = app.run && TERMINAL.has(app.run.status) && action !== "reset" && !TERMINAL.has(info.status);
  const latest = app.run;
  app.run = { ...(app.run || {}), ...info };
  if (ended) Object.assign(app.run, { status: latest.status, step: Math.max(latest.step ?? 0, info.step ?? 0) });
  statusChanged();
  render();
  return info;
}

function togglePlay() {
  return guarded(async () => {
    if (app.run?.status === "running") {
      await control("pause");
      return;
    }
    if (needsNewRun()) await createRun();
    else if (TERMINAL.has(app.run?.status)) {
      await control("reset");
      dash.reset(app.colours[app.setup.rule], app.setup.rule, []);
    }
    const lr = pendingLr(); // changed while the run had ended: apply it before going on
    if (lr !== null) await control("lr", lr);
    const speed = Number($("speed").value);
    if (app.run && Number.isFinite(app.run.speed) && app.run.speed !== speed) await control("speed", speed);
    await control("play");
  });
}

const statusWaiters = new Set();

/** Resolve once the run's status satisfies `pred` (checked on every status/hello), or reject after `ms`. */
function waitForStatus(pred, ms, what) {
  if (app.run && pred(app.run.status)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const w = { pred, resolve };
    statusWaiters.add(w);
    setTimeout(() => {
      if (statusWaiters.delete(w)) reject(new Error(`Still waiting for ${what}. Try again in a moment.`));
    }, ms);
  });
}

function statusChanged() {
  for (const w of [...statusWaiters]) {
    if (app.run && w.pred(app.run.status)) {
      statusWaiters.delete(w);
      w.resolve();
    }
  }
}

function stepOnce() {
  if ($("btn-step").getAttribute("aria-disabled") === "true") return;
  return guarded(async () => {
    if (needsNewRun()) {
      await createRun();
      // A new run is queued until its trainer is ready; one update is possible from then on.
      await waitForStatus((s) => s !== "queued", 120000, "the trainer to start");
    }
    await control("step");
  });
}

function resetRun() {
  if ($("btn-reset").getAttribute("aria-disabled") === "true") return;
  return guarded(async () => {
    if (isStale()) {
      // Reset with new settings: a fresh run, paused at update 0.
      await createRun();
      return;
    }
    await control("reset");
    dash.reset(app.colours[app.setup.rule], app.setup.rule, []);
  });
}

async function sendLr(value) {
  if (!app.runId || isStale() || !Number.isFinite(value) || !LIVE.has(app.run?.status)) return;
  $("live-lr-error").textContent = "";
  try {
    await control("lr", value);
  } catch (err) {
    if (err instanceof ApiError && err.status !== 0) {
      const msg = err.fields?.[0]?.msg || err.message;
      $("live-lr-error").textContent = msg;
      app.forms.optim?.setError("lr", msg);
    }
  }
}

function syncSpeed(v) {
  const sel = $("speed");
  const val = String(Number(v) || 0);
  if (![...sel.options].some((o) => o.value === val)) {
    const o = document.createElement("option");
    o.value = val;
    o.textContent = `${val} updates/s`;
    sel.append(o);
  }
  sel.value = val;
}

// ---------------------------------------------------------------------------------------------------------------
// Projector mode, about-notes, help

function setProjectorMode(on) {
  document.documentElement.classList.toggle("projector", on);
  $("btn-projector").setAttribute("aria-pressed", String(on));
  saveProjector(on);
  setProjector(on);
}

function toggleProjector() {
  const on = !document.documentElement.classList.contains("projector");
  setProjectorMode(on);
  // At the projector the charts matter most: fold the set-up away (one click brings it back).
  if (on) setSetupOpen(false);
}

function wireChrome() {
  $("btn-play").addEventListener("click", togglePlay);
  $("btn-step").addEventListener("click", stepOnce);
  $("btn-reset").addEventListener("click", resetRun);
  $("btn-projector").addEventListener("click", toggleProjector);
  $("btn-help").addEventListener("click", () => $("help").showModal());
  $("btn-setup").addEventListener("click", () => setSetupOpen($("pipeline").hidden));
  let open = true;
  try {
    open = localStorage.getItem(SETUP_KEY) !== "0";
  } catch {
    /* default: open */
  }
  setSetupOpen(open);
  $("pick-task").addEventListener("change", (e) => pickTask(e.target.value));
  $("pick-arch").addEventListener("change", (e) => pickArch(e.target.value));
  $("speed").addEventListener("change", (e) => {
    if (app.runId && !isStale() && LIVE.has(app.run?.status)) guarded(() => control("speed", Number(e.target.value)));
  });
  $("live-lr").addEventListener("change", (e) => {
    const raw = e.target.value.trim();
    const v = raw === "" ? null : Number(raw);
    const f = app.forms.optim?.fields.get("lr");
    if (f) f.el.value = raw;
    app.setup.optim.lr = Number.isFinite(v) ? v : raw;
    changed();
    $("live-lr-error").textContent = "";
    if (app.runId && !isStale()) sendLr(v);
  });
  // "What am I looking at?" notes: one click opens, a second closes. They overlay the chart (no layout shift).
  document.addEventListener("click", (e) => {
    const btn = e.target.closest("button.about");
    if (!btn) return;
    const note = document.getElementById(btn.getAttribute("aria-controls"));
    const open = btn.getAttribute("aria-expanded") !== "true";
    btn.setAttribute("aria-expanded", String(open));
    btn.textContent = open ? "Close" : "What am I looking at?";
    note.hidden = !open;
  });
  window.addEventListener("hashchange", () => {
    if (!app.catalog || !hashChangedExternally()) return;
    // Someone pasted or edited the address: take the setup (and run) it describes.
    const { setup, runId, hasSetup } = parseHash(location.hash);
    app.hashHadSetup = hasSetup;
    applySetup(setup);
    schedulePreview(0);
    if (runId && runId !== app.runId) {
      app.runKey = null;
      attach(runId);
    } else render();
  });
  // A hidden tab costs nothing: drawing already stops (requestAnimationFrame does not run, so no snapshot is
  // acknowledged and the server sends no more); after a while the socket is closed too, and on return a fresh
  // connection brings the whole history in its hello.
  let hiddenTimer = null;
  document.addEventListener("visibilitychange", () => {
    clearTimeout(hiddenTimer);
    if (document.hidden) {
      hiddenTimer = setTimeout(() => {
        if (document.hidden && app.socket && app.runId) {
          app.socket.close();
          app.socket = null;
          app.suspended = true;
        }
      }, 15000);
    } else if (app.suspended && app.runId) {
      app.suspended = false;
      attach(app.runId);
    }
  });
  installKeyboard({
    playPause: togglePlay,
    step: stepOnce,
    reset: resetRun,
    projector: toggleProjector,
    help: () => {
      const d = $("help");
      if (!d.open) d.showModal();
    },
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Start

function whenPlotly() {
  if (window.Plotly) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const check = () => {
      if (window.Plotly) resolve();
      else if (performance.now() - t0 > 20000) reject(new Error("The chart library did not load."));
      else setTimeout(check, 50);
    };
    check();
  });
}

/** The server may inline the catalog into the page (saves a round trip); otherwise it is fetched. */
function inlineCatalog() {
  const el = document.getElementById("page-data");
  if (!el) return null;
  try {
    const data = JSON.parse(el.textContent);
    return data && data.catalog && Array.isArray(data.catalog.tasks) ? data.catalog : null;
  } catch {
    return null;
  }
}

async function start() {
  const projector = loadProjector();
  setProjectorMode(projector);
  wireChrome();
  render();
  try {
    await whenPlotly();
    dash = new Dashboard(credit, showStats);
    trialChart = new TrialChart($("plot-trial"));
    app.catalog = inlineCatalog() || (await api.catalog());
  } catch (err) {
    $("status").dataset.state = "error";
    $("status-text").textContent = `The lab could not start: ${err.message} Reload the page to try again.`;
    credit.status = "error";
    return;
  }
  app.colours = ruleColours(app.catalog.rules);
  const { setup, runId, hasSetup } = parseHash(location.hash);
  app.hashHadSetup = hasSetup;
  applySetup(setup);
  schedulePreview(0);
  if (runId) attach(runId);
  credit.ready = true;
  render();
}

start();
