// Wiring and start: catalog → pickers and forms → URL hash; Play/Step/Reset → runs; websocket → dashboard.
// The parts: store.js (the one state, and subscribe/notify), setup.js (the set-up panels), layout.js (what is
// shown: set-up, presenter layout), errors.js, preview.js, status.js (status line and buttons), runs.js (the run and
// its websocket), controls.js (what the buttons and keys do). Only this module imports them all: the reactions one
// module's change needs from another are subscribed here, so no two modules import each other.

import { api } from "./api.js";
import { Dashboard } from "./dashboard.js";
import { TrialChart } from "./plots/trial.js";
import { ruleColours } from "./plots/common.js";
import { installKeyboard } from "./keyboard.js";
import { hashChangedExternally, parseHash } from "./state.js";
import { $, app, credit, subscribe } from "./store.js";
import { LIVE, isStale, render, showStats } from "./status.js";
import { applySetup, changed, pickArch, pickRule, pickTask } from "./setup.js";
import { restoreView, toggleSetup, togglePresenter } from "./layout.js";
import { schedulePreview } from "./preview.js";
import { attach, control } from "./runs.js";
import { takeEarlySocket } from "./socket.js";
import { guarded, resetRun, sendLr, startCopy, stepOnce, togglePlay } from "./controls.js";
import { installAbout } from "./about.js";
import { renderPin, togglePin } from "./pin.js";

// ---------------------------------------------------------------------------------------------------------------
// Who reacts to what (store.js lists the topics)

function wireStore() {
  subscribe("changed", render);
  subscribe("changed", renderPin);
  // A set-up change reaches a live run too; Play after the run ended applies it if it did not (controls.js).
  subscribe("lr", (value) => sendLr(value).then(() => {
    if (app.run?.lr === value) app.runLr = value;
  }));
  subscribe("run-setup", (setup) => {
    applySetup(setup);
    schedulePreview(0);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Buttons, fields, keys, the address

function wireChrome() {
  $("btn-play").addEventListener("click", togglePlay);
  $("btn-step").addEventListener("click", stepOnce);
  $("btn-reset").addEventListener("click", resetRun);
  $("btn-copy").addEventListener("click", startCopy);
  $("btn-pin").addEventListener("click", togglePin);
  $("btn-projector").addEventListener("click", togglePresenter);
  $("btn-help").addEventListener("click", () => $("help").showModal());
  $("btn-setup").addEventListener("click", toggleSetup);
  $("pick-task").addEventListener("change", (e) => pickTask(e.target.value));
  $("pick-arch").addEventListener("change", (e) => pickArch(e.target.value));
  $("quick-task").addEventListener("change", (e) => pickTask(e.target.value));
  $("quick-arch").addEventListener("change", (e) => pickArch(e.target.value));
  $("quick-rule").addEventListener("change", (e) => pickRule(e.target.value));
  $("speed").addEventListener("change", (e) => {
    if (app.runId && !isStale() && LIVE.has(app.run?.status)) guarded(() => control("speed", Number(e.target.value)));
  });
  $("live-lr").addEventListener("change", (e) => {
    const raw = e.target.value.trim();
    const v = raw === "" ? null : Number(raw);
    $("live-lr-error").textContent = "";
    if (app.runId && !isStale() && LIVE.has(app.run?.status)) {
      // A live change steers the running run only: the set-up (and the address) keep what the run started with.
      sendLr(v);
      return;
    }
    // No live run: the box is a shortcut to the set-up's learning rate.
    const f = app.forms.optim?.fields.get("lr");
    if (f) f.el.value = raw;
    app.setup.optim.lr = Number.isFinite(v) ? v : raw;
    changed();
  });
  installAbout();
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
    projector: togglePresenter,
    help: () => {
      const d = $("help");
      if (!d.open) d.showModal();
    },
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Start

/**
 * Plotly loads async (templates/index.html), in parallel with the modules and the run's websocket, so this module
 * may run first: the buttons are wired and the status shown meanwhile, and the charts are made when it is there.
 */
function whenPlotly() {
  if (window.Plotly) return Promise.resolve();
  const tag = document.getElementById("plotly-script");
  return new Promise((resolve, reject) => {
    const fail = () => reject(new Error("The chart library did not load."));
    const settle = () => (window.Plotly ? resolve() : fail());
    tag?.addEventListener("load", settle, { once: true });
    tag?.addEventListener("error", fail, { once: true });
    const t0 = performance.now();
    const check = () => {
      if (window.Plotly) resolve();
      else if (performance.now() - t0 > 20000) fail();
      else setTimeout(check, 250);
    };
    check(); // a page without the tag (or a missed event) still finds it
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
  wireStore();
  restoreView();
  wireChrome();
  render();
  try {
    await whenPlotly();
    app.dash = new Dashboard(credit, showStats);
    app.trialChart = new TrialChart($("plot-trial"));
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
  else takeEarlySocket(null); // nothing to watch: a socket the page opened early is closed
  credit.ready = true;
  render();
}

start();
