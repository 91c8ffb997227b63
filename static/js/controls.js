// What the Play / Step / Reset buttons, their keys and the learning-rate box do: user actions run one after another.

import { $, app, notify } from "./store.js";
import { ApiError } from "./api.js";
import { LIVE, TERMINAL, isStale, say } from "./status.js";
import { control, createRun, needsNewRun, waitForStatus } from "./runs.js";
import { showFieldErrors } from "./errors.js";
import { isWatching } from "./watch.js";

/**
 * The set-up's learning rate, if a person changed it in the set-up since the run started (a live change from the
 * top bar is not part of the set-up and is not undone) and it differs from what the run uses.
 */
function pendingLr() {
  const lr = app.setup.optim?.lr;
  return Number.isFinite(lr) && lr > 0 && app.run && lr !== app.runLr && lr !== app.run.lr ? lr : null;
}

let queue = Promise.resolve();
let queued = 0;

/**
 * Run user actions one after another (a key pressed while a request is in flight is not lost: it runs next, and
 * decides what to do from the state at that time). Problems go to the status line or next to the field.
 */
export function guarded(fn) {
  if (queued >= 3) return queue; // someone is hammering a key: drop the excess
  queued += 1;
  queue = queue.then(() => runGuarded(fn)).finally(() => (queued -= 1));
  return queue;
}

async function runGuarded(fn) {
  app.busy = true;
  app.message = null;
  notify("changed");
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
    notify("changed");
  }
}

export function togglePlay() {
  if (isWatching()) return undefined; // a watcher has no controls (the keys included)
  return guarded(async () => {
    if (app.run?.status === "running") {
      await control("pause");
      return;
    }
    if (needsNewRun()) await createRun();
    else if (TERMINAL.has(app.run?.status)) {
      await control("reset");
      app.dash.reset(app.colours[app.setup.rule], app.setup.rule, []);
    }
    const lr = pendingLr(); // changed while the run had ended: apply it before going on
    if (lr !== null) await control("lr", lr);
    const speed = Number($("speed").value);
    if (app.run && Number.isFinite(app.run.speed) && app.run.speed !== speed) await control("speed", speed);
    await control("play");
  });
}

export function stepOnce() {
  if (isWatching()) return undefined;
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

export function resetRun() {
  if (isWatching()) return undefined;
  if ($("btn-reset").getAttribute("aria-disabled") === "true") return;
  return guarded(async () => {
    if (isStale()) {
      // Reset with new settings: a fresh run, paused at update 0.
      await createRun();
      return;
    }
    await control("reset");
    app.dash.reset(app.colours[app.setup.rule], app.setup.rule, []);
  });
}

/** A watcher's one action: a run of their own with this setup, started at once. */
export function startCopy() {
  return guarded(async () => {
    await createRun();
    await control("play");
  });
}

export async function sendLr(value) {
  if (!app.runId || isWatching() || isStale() || !Number.isFinite(value) || !LIVE.has(app.run?.status)) return;
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
