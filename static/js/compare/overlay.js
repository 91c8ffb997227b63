// Charts with one line per member on shared axes: the comparison's loss, accuracy and alignment, and the sweep.
// Each redraw is one Plotly.react of the whole figure, at most a few times a second (members' histories are short).

import { PLOT_CONFIG, axis, baseLayout, theme } from "../plots/common.js";

const DASHES = ["solid", "dash", "dot", "dashdot", "longdash", "longdashdot"];

export class OverlayChart {
  /** @param {HTMLElement} el  @param {object} o {xTitle, yTitle, yType, yRange, guides: {shapes, annotations}} */
  constructor(el, o) {
    this.el = el;
    this.o = o;
    this.lines = []; // [{name, colour, dash, x: [], y: []}]
    this.dirty = false;
  }

  /** One line per member, in member order; ``dash`` tells apart two members that share a rule's colour. */
  setLines(lines) {
    this.lines = lines.map((l) => ({ ...l, x: l.x || [], y: l.y || [] }));
    this.dirty = true;
  }

  replace(i, x, y) {
    this.lines[i].x = x.slice(); // copies: charts may be handed the same arrays, and extend() appends in place
    this.lines[i].y = y.slice();
    this.dirty = true;
  }

  extend(i, x, y) {
    this.lines[i].x.push(...x);
    this.lines[i].y.push(...y);
    this.dirty = true;
  }

  draw() {
    if (!this.dirty || !window.Plotly) return;
    this.dirty = false;
    const t = theme();
    const traces = this.lines.map((l) => ({
      type: "scatter", mode: this.o.mode || "lines", x: l.x.slice(), y: l.y.slice(), name: l.name,
      line: { color: l.colour, width: t.line, dash: l.dash || "solid" }, marker: { color: l.colour, size: 9 },
      error_y: l.error ? { type: "data", symmetric: false, array: l.error.plus, arrayminus: l.error.minus,
        color: l.colour, thickness: 1.5, width: 5 } : undefined,
      connectgaps: false,
    }));
    const layout = baseLayout({
      showlegend: true,
      legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom", font: { size: t.tick } },
      xaxis: axis(this.o.xTitle, this.o.xAxis || { rangemode: "tozero" }),
      yaxis: axis(this.o.yTitle, { type: this.o.yType || "linear", range: this.o.yRange,
        autorange: !this.o.yRange, exponentformat: "power" }),
      margin: { ...t.margin, t: 34 },
      shapes: this.o.guides?.shapes || [],
      annotations: this.o.guides?.annotations || [],
    });
    window.Plotly.react(this.el, traces, layout, PLOT_CONFIG);
  }
}

export { DASHES };
