// The example trial shown before training (and whenever the task or the seed changes).

import { $, app, credit } from "./store.js";
import { api, ApiError } from "./api.js";
import { showFieldErrors } from "./errors.js";

let previewTimer = null;
let previewAbort = null;

export function schedulePreview(delay) {
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
    app.trialChart.draw(p);
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
