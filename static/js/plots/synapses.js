// Credit at single synapses, for rules that keep eligibility traces (e-prop, RFLO, SnAp-1; e-prop and MDGL on
// spiking networks): for one of the shown synapses W_ji, three curves over the example trial, stacked on one time
// axis — its eligibility trace e_ji(t), the learning signal L_j(t) its postsynaptic unit receives, and their product,
// whose sum over the trial is the rule's update of that weight (engine/views/synapses.py Eq. 1). Buttons pick which
// of the shown synapses. Data: signals.eligibility_trace, signals.learning_signal, synapses.credit [T, k],
// synapses.rows / synapses.cols [k] and meta.synapses.weight (docs/protocol.md).

import { PLOT_CONFIG, axis, baseLayout, onThemeChange, theme } from "./common.js";

const TRACE_COLOUR = "#555555";
const ROWS = [
  ["eligibility trace", "e_ji(t)"],
  ["learning signal", "L_j(t)"],
  ["trace × signal", "L_j(t) e_ji(t)"],
];

export class SynapseCurves {
  /** @param box an element to fill: the synapse buttons and the chart */
  constructor(box, colour = "#000000") {
    this.box = box;
    this.colour = colour;
    this.chosen = 0;
    this.bar = document.createElement("div");
    this.bar.className = "synapse-picker";
    this.bar.setAttribute("role", "group");
    this.bar.setAttribute("aria-label", "Which synapse to show");
    this.plot = document.createElement("div");
    this.plot.className = "plot synapse-plot";
    this.plot.id = "plot-synapses";
    box.append(this.bar, this.plot);
    this.key = "";
    this.frames = 0;
    onThemeChange(() => this.last && this.draw(...this.last));
  }

  /** One button per shown synapse, named by the matrix and its row (to) and column (from). */
  buttons(weight, rows, cols) {
    const key = `${weight}|${Array.from(rows)}|${Array.from(cols)}`;
    if (key === this.key) return;
    this.key = key;
    this.bar.replaceChildren();
    // A synapse picked on the heatmap comes first: follow it.
    const first = `${rows[0]},${cols[0]}`;
    if (this.chosen >= rows.length || (this.first !== undefined && first !== this.first)) this.chosen = 0;
    this.first = first;
    rows.forEach((r, k) => {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "btn btn-quiet synapse-pick";
      b.textContent = `${weight}[${r}, ${cols[k]}]`;
      b.title = `the synapse from unit ${cols[k]} to unit ${r}`;
      b.setAttribute("aria-label", `Show the synapse of ${weight} from unit ${cols[k]} to unit ${r}`);
      b.setAttribute("aria-pressed", String(k === this.chosen));
      b.addEventListener("click", () => {
        this.chosen = k;
        for (const [i, x] of [...this.bar.children].entries()) x.setAttribute("aria-pressed", String(i === k));
        if (this.last) this.draw(...this.last);
      });
      this.bar.append(b);
    });
  }

  /** Draw from a snapshot's arrays and meta. */
  draw(arrays, meta) {
    this.last = [arrays, meta];
    const e = arrays["signals.eligibility_trace"];
    const L = arrays["signals.learning_signal"];
    const c = arrays["synapses.credit"];
    const rows = arrays["synapses.rows"]?.data;
    const cols = arrays["synapses.cols"]?.data;
    if (!e || !L || !c || !rows || !cols || !window.Plotly) return;
    const weight = meta.synapses?.weight || "W";
    this.buttons(weight, Array.from(rows, Math.round), Array.from(cols, Math.round));
    const [T, K] = e.shape;
    const k = Math.min(this.chosen, K - 1);
    const x = Array.from({ length: T }, (_, t) => t);
    const col = (a) => x.map((t) => {
      const v = a.data[t * K + k];
      return Number.isFinite(v) ? v : null;
    });
    const t = theme();
    const colours = [TRACE_COLOUR, this.colour, this.colour];
    const traces = [e, L, c].map((a, i) => ({
      type: "scatter", mode: "lines", x, y: col(a), name: ROWS[i][0], xaxis: "x", yaxis: i ? `y${i + 1}` : "y",
      line: { color: colours[i], width: i === 1 ? t.line * 1.4 : t.line },
      fill: i === 2 ? "tozeroy" : "none",
      hovertemplate: `step %{x}<br>${ROWS[i][0]} %{y:.3g}<extra></extra>`,
    }));
    const gap = 0.07;
    const h = (1 - 2 * gap) / 3;
    const top = (i) => 1 - i * h - i * gap;
    // Each panel is named inside its top-left corner (axis titles would crowd the tick labels in projector mode).
    // Tiny values (a product of two small numbers) in short exponent form, the others as plain decimals.
    const small = (y) => y.reduce((m, v) => (v === null ? m : Math.max(m, Math.abs(v))), 0) < 1e-3;
    const yax = (i) => axis("", {
      domain: [top(i) - h, top(i)], zeroline: true, nticks: 3, tickformat: small(traces[i].y) ? ".0e" : ".2~g",
    });
    const layout = baseLayout({
      xaxis: axis("trial time (steps)", { anchor: "y3" }),
      yaxis: yax(0), yaxis2: yax(1), yaxis3: yax(2),
      annotations: ROWS.map(([name, symbol], i) => ({
        xref: "paper", yref: "paper", x: 0, y: top(i), xanchor: "left", yanchor: "bottom", showarrow: false,
        text: `${name} ${symbol}`, font: { size: t.tick, color: colours[i] === this.colour ? "#1a1a1a" : colours[i] },
      })),
      margin: { ...t.margin, t: t.margin.t + t.tick + 6 },
    });
    window.Plotly.react(this.plot, traces, layout, PLOT_CONFIG);
    this.frames += 1;
  }
}
