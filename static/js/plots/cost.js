// The cost meter: where a rule's memory lives and how it grows with the trial length T.
//
// A rule keeps, for one batch, state(T) = fixed + per_step · T bytes (CONTRACT §2): "fixed" lives at the synapses
// (traces, the influence matrix, the current state) and does not grow with T; "per_step" is what every time step
// adds (BPTT's stored trajectory). The chart draws state(T) for this rule and for BPTT over 0 … ~4 T (further if the
// lines cross later), with this run's T marked, so a class sees where the two lines cross. The implementation's
// working buffer (buffer_bytes, e.g. chunked e-prop's) is not part of the algorithm's state and is shown apart.

import { PLOT_CONFIG, REFERENCE_COLOUR, axis, baseLayout, onThemeChange, theme } from "./common.js";
import { byteUnit, humanBytes, humanMs } from "./units.js";

export { humanBytes, humanMs };

const SAMPLES = 41;

/** Where state(T) of the rule and of BPTT meet (T > 0), or null when they never do. */
export function crossing(c) {
  const dp = c.bptt_per_step_bytes - c.per_step_bytes;
  if (!(dp !== 0)) return null;
  const t = (c.fixed_bytes - c.bptt_fixed_bytes) / dp;
  return t > 0 && Number.isFinite(t) ? t : null;
}

function hasSplit(c) {
  return c && ["fixed_bytes", "per_step_bytes", "bptt_fixed_bytes", "bptt_per_step_bytes", "steps"]
    .every((k) => Number.isFinite(c[k]));
}

export class CostMeter {
  constructor() {
    const $ = (id) => document.getElementById(id);
    this.el = {
      ms: $("cost-ms"), ruleName: $("cost-rule-name"), rule: $("cost-rule"), bptt: $("cost-bptt"),
      ruleFixed: $("cost-rule-fixed"), ruleStep: $("cost-rule-step"), bpttFixed: $("cost-bptt-fixed"),
      bpttStep: $("cost-bptt-step"), ratio: $("cost-ratio"), buffer: $("cost-buffer"), plot: $("plot-cost"),
    };
    this.colour = "#000";
    this.last = null;
    onThemeChange(() => this.last && this.draw(this.last));
  }

  reset(colour, ruleName) {
    this.colour = colour;
    this.ruleName = ruleName;
    this.update(null);
  }

  /** @param c the cost dict of CONTRACT §2 (from a snapshot, the run's info, or an estimate), or null */
  update(c) {
    const e = this.el;
    const name = this.ruleName || "this rule";
    e.ruleName.textContent = name;
    e.ms.textContent = humanMs(c ? c.ms_per_update : null);
    e.rule.textContent = humanBytes(c ? c.state_bytes : null);
    e.bptt.textContent = humanBytes(c ? c.bptt_state_bytes : null);
    e.ruleFixed.textContent = humanBytes(c ? c.fixed_bytes : null);
    e.ruleStep.textContent = humanBytes(c ? c.per_step_bytes : null);
    e.bpttFixed.textContent = humanBytes(c ? c.bptt_fixed_bytes : null);
    e.bpttStep.textContent = humanBytes(c ? c.bptt_per_step_bytes : null);
    e.buffer.textContent = c && c.buffer_bytes > 0
      ? `Not counted above: this implementation also uses a working buffer of ${humanBytes(c.buffer_bytes)} ` +
        "(a speed-up, not something the algorithm needs)."
      : "";
    e.ratio.textContent = this.sentence(c, name);
    if (hasSplit(c)) this.draw(c);
    else if (!c) window.Plotly?.purge(e.plot);
  }

  sentence(c, name) {
    if (!c || !(c.state_bytes > 0) || !(c.bptt_state_bytes > 0)) return "";
    const r = c.bptt_state_bytes / c.state_bytes;
    const x = (v) => (v >= 10 ? Math.round(v) : v.toFixed(1));
    const now = Math.abs(r - 1) < 0.05 ? `At T = ${c.steps} steps ${name} keeps as much as BPTT.`
      : r > 1 ? `At T = ${c.steps} steps ${name} keeps ${x(r)}× less than BPTT.`
        : `At T = ${c.steps} steps ${name} keeps ${x(1 / r)}× more than BPTT.`;
    const t = hasSplit(c) ? crossing(c) : null;
    return t === null ? now : `${now} The lines cross at T ≈ ${Math.round(t)} steps.`;
  }

  /** Memory against trial length for the rule and BPTT, this run's T marked. */
  draw(c) {
    this.last = c;
    // Each snapshot repeats the cost; only a changed split (or theme, colour, rule) is worth a Plotly redraw.
    const key = JSON.stringify([c.steps, c.fixed_bytes, c.per_step_bytes, c.bptt_fixed_bytes, c.bptt_per_step_bytes,
      this.colour, this.ruleName, theme().line]);
    if (key === this.drawnKey && this.el.plot.data) return;
    this.drawnKey = key;
    const T = Math.max(1, c.steps);
    const cross = crossing(c);
    const tMax = Math.max(4 * T, cross !== null && cross < 40 * T ? 1.25 * cross : 0);
    const xs = Array.from({ length: SAMPLES }, (_, i) => Math.round((tMax * i) / (SAMPLES - 1)));
    const rule = (t) => c.fixed_bytes + c.per_step_bytes * t;
    const bptt = (t) => c.bptt_fixed_bytes + c.bptt_per_step_bytes * t;
    const top = Math.max(rule(tMax), bptt(tMax), rule(0), bptt(0), 1);
    const unit = byteUnit(top);
    const y = (f) => xs.map((t) => f(t) / unit.factor);
    const t = theme();
    const name = this.ruleName || "this rule";
    const fmt = unit.factor === 1 ? ".0f" : ".3g";
    const traces = [
      { type: "scatter", mode: "lines", name, x: xs, y: y(rule), line: { color: this.colour, width: t.line },
        hovertemplate: `T = %{x} steps<br>${name}: %{y:${fmt}} ${unit.name}<extra></extra>` },
      { type: "scatter", mode: "lines", name: "BPTT", x: xs.slice(), y: y(bptt),
        line: { color: REFERENCE_COLOUR, width: t.line, dash: "dash" },
        hovertemplate: `T = %{x} steps<br>BPTT: %{y:${fmt}} ${unit.name}<extra></extra>` },
      { type: "scatter", mode: "markers", name: `this run (T = ${T})`, x: [T, T],
        y: [rule(T) / unit.factor, bptt(T) / unit.factor], showlegend: false,
        marker: { size: t.line * 4, color: [this.colour, REFERENCE_COLOUR], line: { color: "#fff", width: 1.5 } },
        hovertemplate: `this run, T = ${T}<br>%{y:${fmt}} ${unit.name}<extra></extra>` },
    ];
    const layout = baseLayout({
      xaxis: axis("trial length T (steps)", { range: [0, tMax], autorange: false }),
      yaxis: axis(`memory per batch (${unit.name})`, { rangemode: "tozero" }),
      showlegend: true,
      legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom", font: { size: t.tick } },
      margin: { ...t.margin, t: 28 },
      shapes: [{ type: "line", xref: "x", yref: "paper", x0: T, x1: T, y0: 0, y1: 1,
        line: { color: "#555", width: 1.5, dash: "dot" } }],
      annotations: [{ x: T, y: 1, xref: "x", yref: "paper", yanchor: "top", xanchor: "left", showarrow: false,
        text: ` this run's T = ${T}`, font: { size: t.tick, color: "#444" } }],
    });
    window.Plotly.react(this.el.plot, traces, layout, PLOT_CONFIG);
  }
}
