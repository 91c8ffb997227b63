// Errors next to the fields they name (a 422 from the server, whose loc names the field), or under the Training
// panel when they name none. A refusal of the task, network or rule as a whole sits under its picker.

import { $, app } from "./store.js";
import { TOP_KEYS } from "./state.js";
import { setSetupOpen } from "./layout.js";

/** Top-level spec fields that are pickers, and the error line under each. */
const PICKERS = { task: "task-error", arch: "arch-error", rule: "rule-error" };

export function clearFieldErrors() {
  for (const f of Object.values(app.forms)) f.clearErrors();
  for (const id of Object.values(PICKERS)) $(id).textContent = "";
  $("general-error").textContent = "";
}

/** "rule: rule: RTRL needs …" → "RTRL needs …": the field is named once, by where the message stands. */
function withoutPath(path, msg) {
  let m = msg || "";
  const names = path ? [path, path.split(".").pop()] : [];
  for (let again = true; again; ) {
    again = false;
    for (const n of names) {
      if (n && m.startsWith(`${n}: `)) {
        m = m.slice(n.length + 2);
        again = true;
      }
    }
  }
  return m;
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
    msg = withoutPath(path, msg);
    let placed = false;
    if (parts.length === 1 && PICKERS[parts[0]]) {
      $(PICKERS[parts[0]]).textContent = msg;
      placed = true;
      first = first || (parts[0] === "rule" ? document.querySelector("#rule-list input:checked") : $(`pick-${parts[0]}`));
    } else if (parts.length >= 2 && app.forms[parts[0]]) {
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
