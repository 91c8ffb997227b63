// Before Play: what the set-up would cost (POST /api/estimate, engine/estimate.py; nothing is trained). The time per
// update goes under the Training panel, with a warning when it is slow; until a run exists the cost meter shows the
// estimated memory too, so the memory-against-T chart can be read before anything runs.

import { $, app, credit } from "./store.js";
import { api } from "./api.js";
import { toSpec } from "./state.js";
import { render } from "./status.js";
import { humanMs } from "./plots/units.js";

let timer = null;
let abort = null;

export function scheduleEstimate(delay = 400) {
  clearTimeout(timer);
  timer = setTimeout(loadEstimate, delay);
}

/** A long duration in the unit a person thinks in: minutes, hours or days. */
function duration(ms) {
  const min = ms / 60000;
  if (min < 90) return `${Math.max(1, Math.round(min))} min`;
  if (min < 48 * 60) return `${Math.round(min / 60)} h`;
  return `${Math.round(min / 1440)} days`;
}

function perUpdate(ms) {
  return ms >= 1000 ? `${(ms / 1000).toFixed(ms >= 10000 ? 0 : 1)} s` : `${Math.max(1, Math.round(ms))} ms`;
}

async function loadEstimate() {
  if (abort) abort.abort();
  const ctl = new AbortController();
  abort = ctl;
  const el = $("estimate");
  try {
    const est = await api.estimate(toSpec(app.setup), { signal: ctl.signal });
    if (ctl.signal.aborted) return;
    app.estimate = est;
    render();
    credit.estimates = (credit.estimates || 0) + 1;
    const ms = est.ms_per_update;
    el.classList.toggle("is-slow", Boolean(est.slow));
    el.textContent = !Number.isFinite(ms) ? ""
      : est.slow
        ? `About ${perUpdate(ms)} per update (estimated): this set-up is slow. ` +
          (app.setup.run.steps > 0 ? `${app.setup.run.steps} updates would take about ${duration(ms * app.setup.run.steps)}. ` : "") +
          "Fewer hidden units, a smaller batch or shorter trials make it faster."
        : `About ${perUpdate(ms)} per update (estimated).`;
    if (!app.runId && app.dash) {
      app.dash.cost.reset(app.colours[app.setup.rule], app.setup.rule);
      app.dash.cost.update({ ...est, ms_per_update: null });
      $("cost-ms").textContent = Number.isFinite(ms) ? `about ${humanMs(ms)}` : "–";
      $("chart-cost").classList.add("has-data");
    }
  } catch (err) {
    if (err.name === "AbortError") return;
    // A set-up the server refuses is named next to its field when Play is pressed; a server without the
    // estimate route (404) simply shows no estimate.
    app.estimate = null;
    el.classList.remove("is-slow");
    el.textContent = "";
  }
}
