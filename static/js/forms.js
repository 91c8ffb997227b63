// Settings forms generated from the catalog: one field per setting {name, type, default, min, max, gt, lt,
// choices, help}. A new task, architecture or rule shows up here with no edit to this file or the template.

function humanName(name) {
  const s = name.replace(/_/g, " ");
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function fmtBound(v) {
  if (typeof v !== "number") return String(v);
  if (Number.isInteger(v) && Math.abs(v) >= 10000) return v.toLocaleString("en-US");
  return String(v);
}

/** Friendlier labels for a few settings whose code names are terse; everything else is derived from the name. */
const LABELS = { "optim.name": "Optimizer", "optim.lr": "Learning rate", "optim.clip": "Gradient clip" };

/** The allowed range in words, e.g. "1 to 100", "above 0, at most 1", or the list of choices. */
export function boundsText(s) {
  if (Array.isArray(s.choices)) return `one of: ${s.choices.join(", ")}`;
  const lo = s.min !== undefined ? { v: s.min, incl: true } : s.gt !== undefined ? { v: s.gt, incl: false } : null;
  const hi = s.max !== undefined ? { v: s.max, incl: true } : s.lt !== undefined ? { v: s.lt, incl: false } : null;
  if (lo && hi && lo.incl && hi.incl) return `${fmtBound(lo.v)} to ${fmtBound(hi.v)}`;
  const parts = [];
  if (lo) parts.push(lo.incl ? `at least ${fmtBound(lo.v)}` : `above ${fmtBound(lo.v)}`);
  if (hi) parts.push(hi.incl ? `at most ${fmtBound(hi.v)}` : `below ${fmtBound(hi.v)}`);
  return parts.join(", ");
}

let uid = 0;

/** Read a field's value as the server expects it; text it cannot parse is passed on so the server can say why. */
function readValue(el, s) {
  if (el.type === "checkbox") return el.checked;
  const raw = el.value.trim();
  if (s.type === "integer" || s.type === "number") {
    if (raw === "") return null;
    const n = Number(raw);
    return Number.isFinite(n) ? n : raw;
  }
  return raw;
}

function writeValue(el, s, v) {
  if (el.type === "checkbox") el.checked = Boolean(v);
  else el.value = v === null || v === undefined ? "" : String(v);
}

/**
 * Build the fields for one group into `container`.
 * @returns controller {values(), setError(name, msg), clearError(name), clearErrors(), setGroupError(msg),
 *   fields: Map(name → element)}
 */
export function buildForm(container, group, settings, values, onChange) {
  container.replaceChildren();
  const fields = new Map();
  // For errors about the group as a whole (e.g. two settings that disagree with each other).
  const groupErr = document.createElement("p");
  groupErr.className = "field-error group-error";
  groupErr.setAttribute("role", "alert");
  container.append(groupErr);
  if (!settings.length) {
    const p = document.createElement("p");
    p.className = "no-settings";
    p.textContent = "Nothing to set here.";
    container.append(p);
  }
  for (const s of settings) {
    const id = `f-${group}-${s.name}-${++uid}`;
    const wrap = document.createElement("div");
    wrap.className = "field";
    // Run-level settings (batch, seed, …) sit at the top of a RunSpec, so their path is the bare name.
    const path = group === "run" ? s.name : `${group}.${s.name}`;
    wrap.dataset.path = path;

    const label = document.createElement("label");
    label.htmlFor = id;
    label.textContent = LABELS[`${group}.${s.name}`] || humanName(s.name);

    let el;
    if (Array.isArray(s.choices)) {
      el = document.createElement("select");
      for (const c of s.choices) {
        const o = document.createElement("option");
        o.value = String(c);
        o.textContent = String(c);
        el.append(o);
      }
    } else if (s.type === "boolean") {
      el = document.createElement("input");
      el.type = "checkbox";
      wrap.classList.add("field-check");
    } else {
      el = document.createElement("input");
      if (s.type === "integer" || s.type === "number") {
        el.type = "number";
        el.inputMode = s.type === "integer" ? "numeric" : "decimal";
        el.step = s.type === "integer" ? "1" : "any";
        if (s.min !== undefined) el.min = String(s.min);
        if (s.max !== undefined) el.max = String(s.max);
      } else {
        el.type = "text";
      }
      el.autocomplete = "off";
    }
    el.id = id;
    el.name = path;
    el.dataset.setting = s.name;

    const help = document.createElement("p");
    help.className = "help";
    help.id = `${id}-help`;
    const bounds = boundsText(s);
    help.textContent = s.help || "";
    if (bounds) {
      const b = document.createElement("span");
      b.className = "bounds";
      b.textContent = ` Allowed: ${bounds}. Default: ${s.default}.`;
      help.append(b);
    } else if (s.default !== undefined && s.default !== null) {
      const b = document.createElement("span");
      b.className = "bounds";
      b.textContent = ` Default: ${s.default}.`;
      help.append(b);
    }

    const err = document.createElement("p");
    err.className = "field-error";
    err.id = `${id}-err`;
    err.setAttribute("role", "alert");

    el.setAttribute("aria-describedby", `${help.id} ${err.id}`);
    const v = values && values[s.name] !== undefined ? values[s.name] : s.default;
    writeValue(el, s, v);

    const fire = () => {
      clearError(s.name);
      groupErr.textContent = "";
      onChange(group, s.name, readValue(el, s));
    };
    el.addEventListener(el.tagName === "SELECT" || el.type === "checkbox" ? "change" : "input", fire);

    if (el.type === "checkbox") wrap.append(el, label, help, err);
    else wrap.append(label, el, help, err);
    container.append(wrap);
    fields.set(s.name, { el, err, wrap, setting: s });
  }

  function clearError(name) {
    const f = fields.get(name);
    if (!f) return;
    f.err.textContent = "";
    f.wrap.classList.remove("has-error");
    f.el.removeAttribute("aria-invalid");
  }

  return {
    fields,
    values() {
      const out = {};
      for (const [name, f] of fields) out[name] = readValue(f.el, f.setting);
      return out;
    },
    setError(name, msg) {
      const f = fields.get(name);
      if (!f) return false;
      f.err.textContent = msg;
      f.wrap.classList.add("has-error");
      f.el.setAttribute("aria-invalid", "true");
      const details = f.wrap.closest("details");
      if (details) details.open = true;
      return true;
    },
    clearError,
    clearErrors() {
      for (const name of fields.keys()) clearError(name);
      groupErr.textContent = "";
    },
    setGroupError(msg) {
      groupErr.textContent = msg;
      const details = container.closest("details");
      if (details) details.open = true;
      return true;
    },
  };
}
