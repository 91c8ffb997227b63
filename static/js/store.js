// The page's shared state: the debugging counters (window.__credit), the app's own state, and the charts.

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

/** The dashboard and the example-trial chart, made once Plotly has loaded (see app.js). */
export let dash;
export let trialChart;

export function setDash(dashboard) {
  dash = dashboard;
}

export function setTrialChart(chart) {
  trialChart = chart;
}
