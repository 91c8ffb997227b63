// The status line, the step counters and the state of the Play / Step / Reset buttons.

import { $, app, credit } from "./store.js";
import { specKey, toSpec } from "./state.js";
import { renderWatch } from "./watch.js";

export const TERMINAL = new Set(["done", "diverged", "stopped", "error"]);
export const LIVE = new Set(["queued", "paused", "running"]);

function fmtLoss(v) {
  if (v === null || v === undefined || !Number.isFinite(v)) return v === null ? "not a number" : "–";
  if (v === 0) return "0";
  return v >= 1e4 || v < 0.001 ? v.toExponential(1).replace("+", "") : String(Number(v.toPrecision(2)));
}

function fmtAcc(v) {
  return v === null || v === undefined || !Number.isFinite(v) ? "–" : `${Math.round(100 * v)} %`;
}

export function isStale() {
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
  if (!app.runId) {
    const slow = app.estimate?.slow ? ` Slow set-up: about ${Math.round(app.estimate.ms_per_update / 1000)} s per update.` : "";
    return ["empty", `Ready. Press Play to train ${app.setup.arch} on ${app.setup.task} with ${ruleTitle(app.setup.rule)}.${slow}`];
  }
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
      return ["done", `Finished after ${step} updates. ${lateText()} Reset (R) to watch it again.${stale}`];
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

/** A watcher cannot press Reset or Play: drop the status line's advice to. */
function watchText(text) {
  return text.replace(/ ?(Reset \(R\)|Press Play|Press Play \(Space\))[^.]*\./g, "").trim();
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

export function render() {
  const watching = renderWatch();
  const [kind, rawText] = statusView();
  const text = watching && app.runId && !app.message ? `Watching someone else's run. ${watchText(rawText)}` : rawText;
  const bar = $("status");
  bar.dataset.state = kind;
  if ($("status-text").textContent !== text) $("status-text").textContent = text;
  credit.status = app.run?.status || (app.catalog ? "empty" : "loading");
  credit.runId = app.runId;
  if (app.dash && app.run && app.run.status !== "running") {
    credit.step = Math.max(app.dash.latest.step || 0, app.run.step || 0);
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

/** "Loss 0.12, right 93 % (mean of the last 50 updates)." — summary.js Eq. (1), never the last batch alone. */
function lateText() {
  const s = app.dash?.summary();
  if (!s || !s.window) return "";
  return `Loss ${fmtLoss(s.loss)}, right ${fmtAcc(s.accuracy)} (mean of the last ${s.window} updates).`;
}

/** The big numbers: update count, and loss / right as the mean of the last 10 % of updates (app.dash.summary()). */
export function showStats(latest) {
  const step = latest.step || 0;
  const s = app.dash ? app.dash.summary() : { loss: null, accuracy: null, window: 0 };
  credit.step = Math.max(step, app.run?.step || 0);
  $("stat-step").textContent = String(credit.step);
  $("stat-loss").textContent = step && s.window ? fmtLoss(s.loss) : "–";
  $("stat-acc").textContent = step && s.window ? fmtAcc(s.accuracy) : "–";
  $("stat-window").textContent = step && s.window > 1 ? `mean of last ${s.window} updates` : "";
  if (app.run && app.run.status === "running" && step > (app.run.step || 0)) {
    app.run.step = step;
    render();
  }
}

export function say(kind, text) {
  app.message = text ? { kind, text } : null;
  render();
}

