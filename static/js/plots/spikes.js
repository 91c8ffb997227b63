// A spiking network on the example trial: a spike raster (neurons × time) coloured by cell type, and the membrane
// potential and threshold of the most active neuron, with a sentence when the network is silent or saturated.
// Data: the snapshot's spiking.* arrays and meta.spiking (engine/spiking_view.py, docs/protocol.md).

import { PLOT_CONFIG, axis, baseLayout, theme } from "./common.js";

/** Colours per cell-type code: excitatory red, inhibitory blue; adaptive neurons darker. */
export const CELL_COLOURS = { 0: [213, 94, 0], 1: [150, 50, 0], 2: [0, 114, 178], 3: [0, 60, 120] };
const CELL_NAMES = { 0: "excitatory", 1: "excitatory, adaptive", 2: "inhibitory", 3: "inhibitory, adaptive" };

export class SpikeView {
  /** @param box an element to fill: the raster canvas, its legend, a note, and the membrane chart */
  constructor(box) {
    this.box = box;
    box.innerHTML = "";
    this.canvas = document.createElement("canvas");
    this.canvas.className = "spike-raster";
    this.canvas.setAttribute("role", "img");
    this.canvas.setAttribute("aria-label", "Spikes of every neuron over the example trial, coloured by cell type");
    this.legend = document.createElement("p");
    this.legend.className = "chart-note";
    this.note = document.createElement("p");
    this.note.className = "chart-note spike-state";
    this.note.setAttribute("role", "status");
    this.membrane = document.createElement("div");
    this.membrane.className = "plot membrane";
    this.membrane.id = "plot-membrane";
    box.append(this.canvas, this.legend, this.note, this.membrane);
    this.frames = 0;
  }

  /** Draw from a snapshot's arrays ({name: {shape, data}}) and meta. */
  draw(arrays, meta) {
    const z = arrays["spiking.spikes"];
    const types = arrays["spiking.cell_type"]?.data || [];
    if (!z) return;
    const [T, n] = z.shape;
    if (this.canvas.width !== T || this.canvas.height !== n) {
      this.canvas.width = T;
      this.canvas.height = n;
    }
    const ctx = this.canvas.getContext("2d");
    const img = ctx.createImageData(T, n);
    let busiest = 0;
    const counts = new Array(n).fill(0);
    for (let t = 0; t < T; t++) {
      for (let j = 0; j < n; j++) {
        const o = (j * T + t) * 4;
        const spike = z.data[t * n + j] > 0.5;
        const c = spike ? CELL_COLOURS[types[j] ?? 0] : [250, 250, 250];
        img.data[o] = c[0]; img.data[o + 1] = c[1]; img.data[o + 2] = c[2]; img.data[o + 3] = 255;
        if (spike) counts[j] += 1;
      }
    }
    ctx.putImageData(img, 0, 0);
    for (let j = 1; j < n; j++) if (counts[j] > counts[busiest]) busiest = j;
    const present = [...new Set(Array.from(types))].sort();
    this.legend.textContent = `Rows: neurons; columns: time steps. Colours: ${present.map((k) => CELL_NAMES[k]).join(", ")}.`;
    const s = meta.spiking || {};
    const rate = Number.isFinite(s.rate_hz) ? `${s.rate_hz.toFixed(1)} Hz on average` : "";
    this.note.textContent = s.silent
      ? "The network is silent: no neuron spiked on this trial, so no credit can reach its synapses (the pseudo-derivative is near zero). Try a larger input rate or a lower threshold."
      : s.saturated
        ? `The network is saturated (${rate}): neurons fire nearly as fast as the refractory period allows, so spikes say little about the input.`
        : `Firing ${rate}.`;
    this.note.dataset.state = s.silent ? "silent" : s.saturated ? "saturated" : "ok";
    this.drawMembrane(arrays, busiest, T, n);
    this.frames += 1;
  }

  drawMembrane(arrays, j, T, n) {
    const v = arrays["spiking.v"]?.data;
    const th = arrays["spiking.threshold"]?.data;
    if (!v || !th || !window.Plotly) return;
    const x = Array.from({ length: T }, (_, t) => t);
    const col = (a) => x.map((t) => a[t * n + j]);
    const t = theme();
    const traces = [
      { type: "scatter", mode: "lines", x, y: col(v), name: "membrane potential", line: { color: "#333333", width: t.line } },
      { type: "scatter", mode: "lines", x, y: col(th), name: "threshold", line: { color: "#D55E00", width: t.line, dash: "dash" } },
    ];
    const layout = baseLayout({
      xaxis: axis("trial time (steps)"), yaxis: axis(`neuron ${j} (most active)`),
      showlegend: true, legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom" }, margin: { ...t.margin },
    });
    window.Plotly.react(this.membrane, traces, layout, PLOT_CONFIG);
  }
}
