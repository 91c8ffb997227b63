// Pin: keep a finished run's loss and accuracy as grey ghost curves under the next runs, so "run A, then B" can be
// compared on one screen without setting up a comparison. One pin at a time; the button unpins it.

import { $, app } from "./store.js";
import { TERMINAL } from "./status.js";

function label(run) {
  const s = run?.spec || {};
  return `${s.rule} on ${s.task} (run ${run?.id})`;
}

/** Pin the run shown (when it has finished), or unpin what is pinned. */
export function togglePin() {
  if (app.pinned) {
    app.pinned = null;
    app.dash?.unpin();
  } else if (app.run && TERMINAL.has(app.run.status)) {
    app.pinned = label(app.run);
    app.dash?.pin(app.pinned);
  }
  renderPin();
}

/** The button says what it will do; it is off while there is nothing to pin. */
export function renderPin() {
  const btn = $("btn-pin");
  if (!btn) return;
  const canPin = Boolean(app.run && TERMINAL.has(app.run.status) && app.dash);
  btn.disabled = !app.pinned && !canPin;
  btn.textContent = app.pinned ? "Unpin" : "Pin this run";
  btn.setAttribute("aria-pressed", app.pinned ? "true" : "false");
  btn.title = app.pinned
    ? `Pinned: ${app.pinned}. Its curves stay, dashed grey, under the next runs.`
    : canPin ? "Keep this run's loss and accuracy under the next runs, to compare them on one screen."
      : "A run can be pinned once it has finished.";
}
