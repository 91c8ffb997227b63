// The page's one store: the state every module reads (the catalog, the set-up, the run shown, what is shown), the
// debugging counters (window.__credit), the charts, and subscribe/notify so that a module can say "this changed"
// without importing the modules that react to it. Modules import the store, never each other in a circle
// (tests/test_import_cycles.py); app.js wires the reactions.
//
// Topics (notify(topic, detail) calls every subscriber of the topic, in order, at once):
//   "changed"    something the status line or the buttons show changed (status.js redraws them)
//   "lr"         the set-up's learning rate was edited (value): a live run is steered to it (controls.js)
//   "run-setup"  a run opened from a link brought its own set-up (setup): the set-up shows it (setup.js, preview.js)

import { emptySetup } from "./state.js";

export const $ = (id) => document.getElementById(id);

/** Counters and state for people debugging and for the browser tests. */
export const credit = {
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

export const app = {
  // the lab
  catalog: null,
  colours: {},
  // the set-up: what the next run would be (state.js keeps it in the address)
  setup: emptySetup(),
  forms: {},
  estimate: null,
  hashHadSetup: false,
  // the run shown
  runId: null,
  runKey: null, // specKey of the spec the current run was created with
  runLr: null, // the learning rate the set-up last gave the run
  run: null, // latest run info / status fields
  socket: null,
  suspended: false, // the socket was closed while the tab was hidden
  connection: "none",
  createdHere: new Set(),
  // what the page is doing and showing
  busy: false,
  message: null,
  pinned: null, // the label of the run pinned as ghost curves (pin.js), or null
  // set-up panels open (the person's remembered choice), presenter layout on, set-up opened for a moment in it
  view: { setupOpen: true, presenter: false, setupInPresenter: false },
  // the charts, made once Plotly has loaded (app.js)
  dash: null,
  trialChart: null,
};

const topics = new Map();

/** Call fn(detail) on every notify(topic, detail); returns a function that unsubscribes. */
export function subscribe(topic, fn) {
  if (!topics.has(topic)) topics.set(topic, new Set());
  topics.get(topic).add(fn);
  return () => topics.get(topic).delete(fn);
}

export function notify(topic, detail) {
  for (const fn of [...(topics.get(topic) || [])]) fn(detail);
}
