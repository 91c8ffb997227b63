// Errors next to the fields they name (a 422 from the server), or under the Training panel.

import { $, app } from "./store.js";
import { TOP_KEYS } from "./state.js";
import { setSetupOpen } from "./setup.js";

export function clearFieldErrors() {
  for (const f of Object.values(app.forms)) f.clearErrors();
  $("general-error").textContent = "";
}

/** Place each {path, msg} next to its field; what names no field goes under the Training panel. */
export function showFieldErrors(err) {
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
