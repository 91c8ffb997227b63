// The run this page shows: creating one, attaching to one (its websocket feeds the dashboard), sending it a
// control, and waiting for its status.

import { $, app, credit, notify } from "./store.js";
import { api } from "./api.js";
import { RunSocket } from "./socket.js";
import { fromSpec, specKey, toSpec, writeHash } from "./state.js";
import { LIVE, TERMINAL, isStale, say } from "./status.js";
import { markOwned, setOwner } from "./watch.js";
import { clearFieldErrors } from "./errors.js";

export function attach(runId) {
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
        if (!app.hashHadSetup) notify("run-setup", runSetup);
        app.runKey = specKey(toSpec(runSetup));
        app.runLr = runSetup.optim?.lr;
      }
      if (!app.runKey) app.runKey = specKey(toSpec(app.setup));
      if (info.speed !== undefined) syncSpeed(info.speed);
      if (info.lr !== undefined && info.lr !== null) $("live-lr").value = info.lr;
      app.dash.setTask(app.catalog.tasks.find((t) => t.name === (info.spec?.task || app.setup.task)));
      app.dash.reset(app.colours[info.spec?.rule || app.setup.rule], info.spec?.rule || app.setup.rule, msg.history || []);
      if (info.cost) app.dash.cost.update(info.cost);
      app.message = null;
      statusChanged();
      notify("changed");
    },
    onStatus: (msg) => {
      const prevStep = app.run?.step ?? 0;
      app.run = { ...(app.run || {}), ...msg };
      if (msg.step === 0 && prevStep > 0) {
        // Reset: start the charts over.
        app.dash.reset(app.colours[app.setup.rule], app.setup.rule, []);
      }
      if (msg.speed !== undefined) syncSpeed(msg.speed);
      if (msg.lr !== undefined && msg.lr !== null && document.activeElement !== $("live-lr")) $("live-lr").value = msg.lr;
      statusChanged();
      notify("changed");
    },
    onMetrics: (msg) => {
      app.dash.addRecords(msg.records || []);
      if (msg.diverged && app.run && app.run.status !== "diverged") {
        app.run.status = "diverged";
        notify("changed");
      }
    },
    onSnapshot: (frame) => app.dash.addSnapshot(frame, () => app.socket && app.socket.ack()),
    onServerError: (msg) => {
      credit.errors.push(msg.message);
      say("error", `The server says: ${msg.message}`);
      setTimeout(() => app.message && app.message.text.startsWith("The server says") && say(null, null), 6000);
    },
    onAuth: (msg) => {
      setOwner(runId, msg.owner);
      notify("changed");
    },
    onConnection: (state) => {
      app.connection = state;
      notify("changed");
    },
  });
  notify("changed");
}

export async function createRun() {
  clearFieldErrors();
  const spec = toSpec(app.setup);
  const old = app.runId;
  const oldLive = LIVE.has(app.run?.status);
  const info = await api.createRun(spec);
  // Our previous run, if it still holds a trainer, gives it back; a finished one has nothing to stop.
  if (old && oldLive && app.createdHere.has(old)) api.control(old, "stop").catch(() => {});
  app.createdHere.add(info.id);
  markOwned(info.id);
  app.runKey = specKey(spec);
  app.runLr = spec.optim?.lr;
  app.dash.setTask(app.catalog.tasks.find((t) => t.name === spec.task));
  app.dash.clearAll();
  app.dash.reset(app.colours[app.setup.rule], app.setup.rule, []);
  attach(info.id);
  app.run = { ...info };
  const speed = Number($("speed").value);
  if ((info.speed ?? 0) !== speed) await api.control(info.id, "speed", speed).catch(() => {});
  return info.id;
}

export function needsNewRun() {
  return !app.runId || isStale() || app.connection === "gone" || app.run?.status === "error";
}

export async function control(action, value) {
  const info = await api.control(app.runId, action, value);
  // The websocket may have said that the run ended (e.g. diverged at update 2) while this request was in flight;
  // the reply, written before that, must not bring the run back to life. Only a reset does.
  const ended = app.run && TERMINAL.has(app.run.status) && action !== "reset" && !TERMINAL.has(info.status);
  const latest = app.run;
  app.run = { ...(app.run || {}), ...info };
  if (ended) Object.assign(app.run, { status: latest.status, step: Math.max(latest.step ?? 0, info.step ?? 0) });
  statusChanged();
  notify("changed");
  return info;
}

const statusWaiters = new Set();

/** Resolve once the run's status satisfies `pred` (checked on every status/hello), or reject after `ms`. */
export function waitForStatus(pred, ms, what) {
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
