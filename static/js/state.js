// The setup (task, architecture, rule, every setting, seed) and the current run id, kept in the URL hash.
//
// Hash format, one key per setting so a person can read and edit it:
//   #task=dnms&arch=rnn&rule=eprop&task_config.delay=10&arch_config.hidden=32&optim.lr=0.01&seed=0&run=ab12
// Groups with nested settings use "group.name"; top-level run settings (batch, seed, steps, alignment_every) are
// plain keys. Values are JSON scalars where that parses (numbers, booleans), otherwise strings.

export const GROUPS = ["task_config", "arch_config", "rule_config", "optim"];
export const TOP_KEYS = ["batch", "seed", "steps", "alignment_every"];

/** A fresh, empty setup. */
export function emptySetup() {
  return { task: null, arch: null, rule: null, task_config: {}, arch_config: {}, rule_config: {}, optim: {}, run: {} };
}

function decodeValue(text) {
  if (text === "true") return true;
  if (text === "false") return false;
  if (text !== "" && /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return Number(text);
  return text;
}

/** Parse a location.hash into {setup, runId}. Unknown keys are kept so nothing a person typed is lost silently. */
export function parseHash(hash) {
  const setup = emptySetup();
  let runId = null;
  const text = (hash || "").replace(/^#/, "");
  if (!text) return { setup, runId, hasSetup: false };
  let hasSetup = false;
  for (const part of text.split("&")) {
    if (!part) continue;
    const eq = part.indexOf("=");
    const key = decodeURIComponent(eq < 0 ? part : part.slice(0, eq));
    const raw = eq < 0 ? "" : decodeURIComponent(part.slice(eq + 1).replace(/\+/g, " "));
    if (key !== "run") hasSetup = true;
    if (key === "task" || key === "arch" || key === "rule") setup[key] = raw;
    else if (key === "run") runId = raw || null;
    else if (TOP_KEYS.includes(key)) setup.run[key] = decodeValue(raw);
    else {
      const dot = key.indexOf(".");
      if (dot > 0 && GROUPS.includes(key.slice(0, dot))) setup[key.slice(0, dot)][key.slice(dot + 1)] = decodeValue(raw);
    }
  }
  return { setup, runId, hasSetup };
}

function enc(v) {
  return encodeURIComponent(String(v)).replace(/%2C/g, ",");
}

/** Build the hash string for a setup and run id. */
export function buildHash(setup, runId) {
  const parts = [];
  for (const k of ["task", "arch", "rule"]) if (setup[k]) parts.push(`${k}=${enc(setup[k])}`);
  for (const g of GROUPS) {
    for (const [name, value] of Object.entries(setup[g] || {})) {
      if (value === undefined || value === null || value === "") continue;
      parts.push(`${g}.${enc(name)}=${enc(value)}`);
    }
  }
  for (const k of TOP_KEYS) {
    const v = (setup.run || {})[k];
    if (v !== undefined && v !== null && v !== "") parts.push(`${k}=${enc(v)}`);
  }
  if (runId) parts.push(`run=${enc(runId)}`);
  return "#" + parts.join("&");
}

let lastWritten = null;

/** Write the hash without adding a history entry (every keystroke would otherwise flood Back). */
export function writeHash(setup, runId) {
  const h = buildHash(setup, runId);
  lastWritten = h;
  if (location.hash !== h) history.replaceState(null, "", h);
}

/** True when the current hash differs from what this page last wrote (a person edited or pasted it). */
export function hashChangedExternally() {
  return location.hash !== lastWritten;
}

/** The RunSpec (engine/spec.py) for a setup. */
export function toSpec(setup) {
  const spec = {
    task: setup.task,
    arch: setup.arch,
    rule: setup.rule,
    task_config: { ...setup.task_config },
    arch_config: { ...setup.arch_config },
    rule_config: { ...setup.rule_config },
    optim: { ...setup.optim },
  };
  for (const [k, v] of Object.entries(setup.run || {})) spec[k] = v;
  return spec;
}

/** A setup from a RunSpec as the server reports it (full, resolved config). */
export function fromSpec(spec) {
  const setup = emptySetup();
  setup.task = spec.task;
  setup.arch = spec.arch;
  setup.rule = spec.rule;
  for (const g of GROUPS) setup[g] = { ...(spec[g] || {}) };
  for (const k of TOP_KEYS) if (spec[k] !== undefined) setup.run[k] = spec[k];
  return setup;
}

/** A key for "would this spec start the same run?" — everything except the live-adjustable learning rate. */
export function specKey(spec) {
  const copy = JSON.parse(JSON.stringify(spec));
  if (copy.optim) delete copy.optim.lr;
  const sortObj = (o) =>
    o && typeof o === "object" && !Array.isArray(o)
      ? Object.fromEntries(Object.keys(o).sort().map((k) => [k, sortObj(o[k])]))
      : o;
  return JSON.stringify(sortObj(copy));
}
