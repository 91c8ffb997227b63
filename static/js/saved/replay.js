// Replay a run: its loss over the whole length, and a scrubber that shows the weights and the example trial as
// they were at the latest keyframe before the chosen update (GET /api/runs/{id}/frames/{step}). "Reopen here"
// makes a new run of this browser's owner that starts from that keyframe and trains on exactly as the original.

import { LineChart } from "../plots/lines.js";
import { WeightHeatmap } from "../plots/heatmap.js";
import { Raster } from "../plots/raster.js";
import { decodeFrame } from "../socket.js";
import { authHeaders, saveOwnerToken } from "../owner.js";

const runId = JSON.parse(document.getElementById("saved-data").textContent).run;
const $ = (id) => document.getElementById(id);
const status = $("saved-status");
const scrub = $("scrub");
const at = $("scrub-at");

const loss = new LineChart($("replay-loss"), { xTitle: "update", yTitle: "loss (log scale)", yType: "log", name: "loss", hoverFormat: ".3g", smooth: true });
const hover = (r, c, v) => `to ${r} from ${c}: ${v}`;
const wrec = new WeightHeatmap($("replay-wrec"), { xTitle: "from unit", yTitle: "to unit", label: "Recurrent weights at the keyframe", hover });
const wchange = new WeightHeatmap($("replay-wchange"), { xTitle: "from unit", yTitle: "to unit", label: "Change of the recurrent weights since the start", hover });
const activity = new Raster($("replay-activity"), { map: "viridis", xTitle: "trial time (steps)", yTitle: "unit", label: "Activity on the example trial" });

/** What the page has drawn, for tests and tools: the keyframe shown and the charts. */
const shown = { keyframe: null, requested: null, wrec, wchange, activity, loss, frames: 0 };
window.__replay = shown;

let keyframes = [];
let history = [];
let pending = null;
let busy = false;

function record(step) {
  let best = null;
  for (const r of history) if (r.step <= step) best = r; else break;
  return best;
}

function describe(step, keyframe) {
  const r = record(step);
  const parts = [`update ${step}`];
  if (r && r.loss != null) parts.push(`loss ${r.loss.toPrecision(3)}`);
  if (r && r.accuracy != null) parts.push(`${Math.round(r.accuracy * 100)} % right`);
  if (keyframe !== null && keyframe !== step) parts.push(`weights from update ${keyframe}`);
  at.textContent = parts.join(" · ");
}

async function show(step) {
  pending = step;
  describe(step, shown.keyframe);
  loss.setGuides([{ type: "line", x0: step, x1: step, yref: "paper", y0: 0, y1: 1, line: { color: "#555", width: 2, dash: "dot" } }]);
  if (busy) return;
  busy = true;
  try {
    while (pending !== null) {
      const want = pending;
      pending = null;
      const res = await fetch(`/api/runs/${encodeURIComponent(runId)}/frames/${want}`);
      if (!res.ok) {
        status.textContent = `No weights kept at or before update ${want} (${res.status}).`;
        continue;
      }
      const { header, arrays } = decodeFrame(await res.arrayBuffer());
      const w = arrays["weights.W_rec"];
      if (w) wrec.draw(w.data, w.shape);
      const c = arrays["weights.W_rec_change"];
      if (c) wchange.draw(c.data, c.shape);
      const a = arrays["example.activity"];
      if (a) activity.draw(a.data, a.shape, { periods: header.meta?.periods || [] });
      shown.keyframe = header.step;
      shown.requested = want;
      shown.frames += 1;
      describe(Number(scrub.value), header.step);
    }
  } finally {
    busy = false;
  }
}

function jump(direction) {
  const now = Number(scrub.value);
  const next = direction > 0 ? keyframes.find((k) => k > now) : [...keyframes].reverse().find((k) => k < now);
  if (next === undefined) return;
  scrub.value = String(next);
  show(next);
}

async function reopen() {
  const res = await fetch(`/api/runs/${encodeURIComponent(runId)}/reopen`, {
    method: "POST", headers: { "Content-Type": "application/json", ...authHeaders() },
    body: JSON.stringify({ step: Number(scrub.value) }),
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) {
    status.textContent = `Could not reopen it: ${body.detail || res.status}`;
    return;
  }
  saveOwnerToken(body.owner_token);
  location.href = `/#run=${encodeURIComponent(body.id)}`;
}

async function start() {
  const [info, kf] = await Promise.all([
    fetch(`/api/runs/${encodeURIComponent(runId)}`).then((r) => (r.ok ? r.json() : null)),
    fetch(`/api/runs/${encodeURIComponent(runId)}/keyframes`).then((r) => (r.ok ? r.json() : null)),
  ]);
  if (!info || !kf) {
    status.textContent = `There is no run ${runId} on this server (it may have been deleted).`;
    document.querySelector(".replay").hidden = true;
    return;
  }
  const s = info.spec;
  document.querySelector("h1").textContent = `Replay: ${s.rule} on ${s.task} (${s.arch}), run ${runId}`;
  history = info.history;
  keyframes = kf.steps;
  loss.reset(s.rule === "bptt" ? "#000000" : "#0072B2", history.map((r) => r.step), history.map((r) => r.loss));
  scrub.max = String(info.step);
  scrub.value = String(info.step);
  status.textContent = `${info.status}, ${info.step} updates; ${keyframes.length} keyframes.`;
  const files = ["spec.json", "metrics.csv", "metrics.json", "weights.pt", "report.html"];
  $("exports").replaceChildren("Export: ", ...files.map((f) => {
    const a = document.createElement("a");
    a.href = `/api/runs/${encodeURIComponent(runId)}/export/${f}`;
    a.textContent = f;
    return a;
  }));
  scrub.addEventListener("input", () => show(Number(scrub.value)));
  $("kf-prev").addEventListener("click", () => jump(-1));
  $("kf-next").addEventListener("click", () => jump(1));
  $("reopen").addEventListener("click", reopen);
  await show(info.step);
  shown.ready = true;
}

start();
