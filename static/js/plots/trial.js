// Trial-structure charts: the task's example trial before training (inputs over targets, periods shaded, judged
// steps marked), and the network's outputs against the targets during training.

import {
  CHANNEL_DASHES, CHANNEL_GREYS, PLOT_CONFIG, axis, baseLayout, column, judgedDecor, onThemeChange, periodDecor, theme,
} from "./common.js";

function asFlat(rows) {
  // The preview endpoint answers nested lists (T×K); snapshots give Float32Array + shape.
  if (!Array.isArray(rows)) return { data: rows, T: rows.length, K: 1 };
  const T = rows.length;
  if (!T) return { data: new Float32Array(0), T: 0, K: 0 };
  if (!Array.isArray(rows[0])) return { data: Float32Array.from(rows, (v) => (v === null ? NaN : v)), T, K: 1 };
  const K = rows[0].length;
  const data = new Float32Array(T * K);
  rows.forEach((r, t) => r.forEach((v, k) => (data[t * K + k] = v === null ? NaN : v)));
  return { data, T, K };
}

const steps = (T) => Array.from({ length: T }, (_, t) => t);

/** The example trial: inputs (top) and targets (bottom), on a shared time axis in steps. */
export class TrialChart {
  constructor(el) {
    this.el = el;
    this.ready = false;
    onThemeChange(() => this.last && this.draw(this.last));
  }

  /** @param p preview answer {inputs, targets, mask, periods, loss_kind} */
  draw(p) {
    this.last = p;
    const t = theme();
    const inp = asFlat(p.inputs);
    const tgt = asFlat(p.targets);
    const mask = Array.isArray(p.mask) ? p.mask : Array.from(p.mask || []);
    const x = steps(inp.T);
    const traces = [];
    for (let k = 0; k < inp.K; k++) {
      traces.push({
        type: "scatter", mode: "lines", x, y: column(inp.data, inp.T, inp.K, k), name: `input ${k + 1}`,
        line: { color: CHANNEL_GREYS[k % CHANNEL_GREYS.length], width: t.thin, dash: CHANNEL_DASHES[k % CHANNEL_DASHES.length], shape: "hv" },
        xaxis: "x", yaxis: "y", hovertemplate: `input ${k + 1} at step %{x}: %{y:.2f}<extra></extra>`,
      });
    }
    const xent = p.loss_kind === "xent";
    for (let k = 0; k < tgt.K; k++) {
      traces.push({
        type: "scatter", mode: "lines", x, y: column(tgt.data, tgt.T, tgt.K, k),
        name: xent ? `target: class ${k + 1}` : `target ${k + 1}`,
        line: { color: CHANNEL_GREYS[k % CHANNEL_GREYS.length], width: t.line, dash: "dash", shape: "hv" },
        xaxis: "x", yaxis: "y2", hovertemplate: `target ${k + 1} at step %{x}: %{y:.2f}<extra></extra>`,
      });
    }
    const decor = periodDecor(p.periods, mask);
    const layout = baseLayout({
      margin: { ...t.margin, l: t.margin.l + 8, t: t.margin.t + t.tick + 6, r: t.margin.r + 6 * t.tick },
      // A legend names every line (inputs by channel, targets by class), beside the plot.
      showlegend: true,
      legend: { x: 1.01, xanchor: "left", y: 1, yanchor: "top", font: { size: t.tick }, tracegroupgap: 4 },
      xaxis: axis("trial time (steps)", { anchor: "y2", range: [-0.5, inp.T - 0.5] }),
      yaxis: axis("inputs", { domain: [0.55, 1], zeroline: false }),
      yaxis2: axis(xent ? "target (prob.)" : "target", { domain: [0, 0.45], zeroline: false }),
      shapes: decor.shapes,
      annotations: decor.annotations,
    });
    window.Plotly.react(this.el, traces, layout, PLOT_CONFIG);
    this.ready = true;
  }
}

/** The network's answer on the example trial (solid) against the target (dashed). */
export class OutputChart {
  constructor(el) {
    this.el = el;
    this.ready = false;
    this.frames = 0;
    this.colour = "#000";
    onThemeChange(() => {
      this.key = null;
      if (this.last) this.draw(...this.last);
    });
  }

  reset(colour) {
    this.colour = colour;
    this.key = null;
  }

  /**
   * @param outputs {data, shape:[T,O]}  @param targets {data, shape}  @param mask Float32Array
   * @param meta {periods, loss_kind}
   */
  draw(outputs, targets, mask, meta) {
    this.last = [outputs, targets, mask, meta];
    const t = theme();
    const [T, O] = outputs.shape.length === 2 ? outputs.shape : [outputs.shape[0], 1];
    const xent = meta.loss_kind === "xent";
    const key = JSON.stringify([T, O, meta.periods, this.colour, xent, t.line]);
    const ys = [];
    for (let k = 0; k < O; k++) ys.push(column(outputs.data, T, O, k));
    if (key === this.key) {
      window.Plotly.restyle(this.el, { y: ys }, ys.map((_, i) => i));
      this.frames += 1;
      return;
    }
    this.key = key;
    const x = steps(T);
    const traces = [];
    for (let k = 0; k < O; k++) {
      traces.push({
        type: "scatter", mode: "lines", x, y: ys[k], name: xent ? `network: class ${k + 1}` : `output ${k + 1}`,
        line: { color: O === 1 ? this.colour : k === 0 ? this.colour : CHANNEL_GREYS[k % CHANNEL_GREYS.length], width: t.line },
        hovertemplate: `output ${k + 1} at step %{x}: %{y:.2f}<extra></extra>`,
      });
    }
    if (targets) {
      const [, TO] = targets.shape.length === 2 ? targets.shape : [targets.shape[0], 1];
      for (let k = 0; k < TO; k++) {
        traces.push({
          type: "scatter", mode: "lines", x, y: column(targets.data, T, TO, k), name: `target ${k + 1}`,
          line: { color: k === 0 ? "#000000" : CHANNEL_GREYS[k % CHANNEL_GREYS.length], width: t.thin, dash: "dash", shape: "hv" },
          hovertemplate: `target ${k + 1} at step %{x}: %{y:.2f}<extra></extra>`,
        });
      }
    }
    const decor = judgedDecor(meta.periods, mask ? Array.from(mask) : []);
    const layout = baseLayout({
      margin: { ...t.margin, t: t.margin.t + t.tick + 6 },
      xaxis: axis("trial time (steps)", { range: [-0.5, T - 0.5] }),
      yaxis: axis(xent ? "probability" : "output", xent ? { range: [-0.05, 1.05], autorange: false } : {}),
      shapes: decor.shapes,
      annotations: decor.annotations,
      showlegend: false,
    });
    window.Plotly.react(this.el, traces, layout, PLOT_CONFIG);
    this.ready = true;
    this.frames += 1;
  }
}
