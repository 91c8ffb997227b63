// The compare page without an id: two small forms, one that starts a comparison (2–6 rules on one task and seed),
// one that starts a sweep. Fields can be filled from the query string (/compare?task=dnms&rules=bptt,eprop&…).

import { compareApi } from "./api.js";

/** "task.delay=40\nbatch=16" → {"task.delay": 40, batch: 16}; values read as JSON when they parse. */
function parseSettings(text) {
  const out = {};
  for (const line of text.split(/[\n;]+/).map((s) => s.trim()).filter(Boolean)) {
    const [key, ...rest] = line.split("=");
    const raw = rest.join("=").trim();
    if (!key || !rest.length) throw new Error(`"${line}" is not SETTING=VALUE (e.g. task.delay=40)`);
    try { out[key.trim()] = JSON.parse(raw); } catch { out[key.trim()] = raw; }
  }
  return out;
}

/** Spec data from dotted settings: task.delay → task_config.delay (as engine/compare.py reads them). */
function baseSpec(task, steps, settings) {
  const sections = { task: "task_config", arch: "arch_config", rule: "rule_config", optim: "optim" };
  const base = { task, ...(steps ? { steps } : {}) };
  for (const [key, value] of Object.entries(settings)) {
    const [head, ...rest] = key.split(".");
    if (rest.length && sections[head]) (base[sections[head]] = base[sections[head]] || {})[rest.join(".")] = value;
    else base[key] = value;
  }
  return base;
}

function listOf(text) {
  return text.split(",").map((s) => s.trim()).filter(Boolean);
}

export function showSetup(root, ctx) {
  const q = (s) => root.querySelector(s);
  const params = new URLSearchParams(location.search);
  for (const sel of ["#new-task", "#sweep-task"]) {
    const el = q(sel);
    el.innerHTML = ctx.catalog.tasks.map((t) => `<option value="${t.name}">${t.name}</option>`).join("");
    el.value = params.get("task") || "dnms";
  }
  const fill = (sel, key) => { if (params.get(key) !== null) q(sel).value = params.get(key); };
  fill("#new-rules", "rules"); fill("#new-steps", "steps"); fill("#new-set", "set");
  fill("#sweep-rules", "rules"); fill("#sweep-steps", "steps"); fill("#sweep-set", "set");
  fill("#sweep-setting", "setting"); fill("#sweep-values", "values"); fill("#sweep-seeds", "seeds");
  if (params.get("lockstep") === "0") q("#new-lockstep").checked = false;
  const fail = (el, err) => { el.textContent = String(err.message || err); };

  q("#new-form").onsubmit = async (ev) => {
    ev.preventDefault();
    q("#new-error").textContent = "";
    try {
      const base = baseSpec(q("#new-task").value, Number(q("#new-steps").value) || null, parseSettings(q("#new-set").value));
      const members = listOf(q("#new-rules").value).map((rule) => ({ rule }));
      const made = await compareApi.create({ base, members, lockstep: q("#new-lockstep").checked });
      await compareApi.control(made.id, "play");
      location.assign(`/compare/${made.id}`);
    } catch (err) {
      fail(q("#new-error"), err);
    }
  };
  q("#sweep-form").onsubmit = async (ev) => {
    ev.preventDefault();
    q("#sweep-error").textContent = "";
    try {
      const base = baseSpec(q("#sweep-task").value, Number(q("#sweep-steps").value) || null,
        parseSettings(q("#sweep-set").value));
      const values = listOf(q("#sweep-values").value).map((v) => { try { return JSON.parse(v); } catch { return v; } });
      const seeds = listOf(q("#sweep-seeds").value).map(Number);
      const made = await compareApi.createSweep({ base, setting: q("#sweep-setting").value.trim(), values,
        rules: listOf(q("#sweep-rules").value), seeds });
      location.assign(`/sweep/${made.id}`);
    } catch (err) {
      fail(q("#sweep-error"), err);
    }
  };
  window.__compare = { kind: "setup", ready: true };
}
