// The audience's view of the run a room shows, from the room's relay (/ws/rooms/<code>/run, docs/rooms.md):
// the loss curve, the example trial's activity and the recurrent weights, drawn from quantised frames.
// While the presenter hides the rule (guess the rule) the relay names nothing of it, and neither does this
// page: one neutral ink for every curve, no rule colour, no rule-specific chart.

import { CODE, setStatus } from "./common.js";

const INK = "#444";

/** A quantised snapshot frame (u32 LE header length, JSON header, uint8 payloads) → {header, arrays}; each
 *  array is {shape, data: Float32Array} with data[i] = lo + scale · q[i] (Eq. Q1 of app/protocol.py). */
export function decodeFrame(buf) {
  const n = new DataView(buf).getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 4, n)));
  const arrays = {};
  for (const e of header.arrays) {
    const q = new Uint8Array(buf, 4 + n + e.offset, e.length);
    const data = new Float32Array(e.length);
    for (let i = 0; i < q.length; i++) data[i] = e.lo + e.scale * q[i];
    arrays[e.name] = { shape: e.shape, data };
  }
  return { header, arrays };
}

function rows(a) {
  const [r, c] = a.shape.length === 2 ? a.shape : [1, a.shape[0]];
  return Array.from({ length: r }, (_, i) => Array.from(a.data.subarray(i * c, (i + 1) * c)));
}

function transpose(m) {
  return m.length ? m[0].map((_, j) => m.map((row) => row[j])) : m;
}

const LAYOUT = { margin: { t: 30, r: 10, b: 40, l: 50 }, height: 260, showlegend: false, font: { size: 13 } };
const CONFIG = { displayModeBar: false, responsive: true };

/** Follow the relay into the three plots under `box` (onHello(run) on every hello); returns a function that
 *  stops following. */
export function followRun(box, onHello = () => {}) {
  const view = window.matchMedia("(max-width: 700px)").matches ? "phone" : "full";
  const loss = box.querySelector(".relay-loss");
  const activity = box.querySelector(".relay-activity");
  const weights = box.querySelector(".relay-weights");
  let steps = [], losses = [], ws = null, stopped = false, delay = 500;
  const drawLoss = () => window.Plotly && window.Plotly.react(loss, [{ type: "scatter", mode: "lines", x: steps, y: losses,
    line: { color: INK, width: 2 }, name: "loss" }], { ...LAYOUT, title: { text: "Loss" },
    xaxis: { title: { text: "update" } }, yaxis: { type: "log" } }, CONFIG);
  const add = (records) => {
    for (const r of records) if (r.loss !== null && r.loss !== undefined) { steps.push(r.step); losses.push(r.loss); }
  };
  const open = () => {
    ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/rooms/${CODE}/run?view=${view}`);
    ws.binaryType = "arraybuffer";
    ws.onmessage = (ev) => {
      if (ev.data instanceof ArrayBuffer) {
        const { arrays } = decodeFrame(ev.data);
        const act = arrays["example.activity"], w = arrays["weights.W_rec"];
        if (window.Plotly && act) window.Plotly.react(activity, [{ type: "heatmap", z: transpose(rows(act)),
          colorscale: "RdBu", zmid: 0, showscale: false }], { ...LAYOUT, title: { text: "Activity (example trial)" },
          xaxis: { title: { text: "time step" } }, yaxis: { title: { text: "unit" } } }, CONFIG);
        if (window.Plotly && w) window.Plotly.react(weights, [{ type: "heatmap", z: rows(w), colorscale: "RdBu",
          zmid: 0, showscale: false }], { ...LAYOUT, title: { text: "Recurrent weights" },
          yaxis: { autorange: "reversed" } }, CONFIG);
        return;
      }
      const msg = JSON.parse(ev.data);
      if (msg.type === "hello") { steps = []; losses = []; add(msg.history); drawLoss(); onHello(msg.run); }
      else if (msg.type === "metrics") { add(msg.records); drawLoss(); }
    };
    ws.onopen = () => { delay = 500; };
    ws.onclose = (ev) => {
      if (stopped || ev.code === 4403 || ev.code === 4404 || ev.code === 4409) return;
      setStatus("The run's stream was interrupted; reconnecting…");
      setTimeout(open, delay);
      delay = Math.min(delay * 2, 10_000);
    };
  };
  open();
  return () => { stopped = true; if (ws) ws.close(1000); };
}
