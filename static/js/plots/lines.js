// A growing line over updates (loss, accuracy, alignment): SVG scatter, batched extendTraces at most ~10 Hz.

import { PLOT_CONFIG, axis, baseLayout, onThemeChange, theme } from "./common.js";

const MAX_POINTS = 50000;

export class LineChart {
  /**
   * @param {HTMLElement} el the fixed-size plot box
   * @param {object} o {xTitle, yTitle, yType ("linear"|"log"), yRange, yTickFormat, hoverFormat, name}
   */
  constructor(el, o) {
    this.el = el;
    this.o = o;
    this.colour = "#000000";
    this.points = 0;
    this.pending = { x: [], y: [] };
    this.ready = false;
    onThemeChange(() => this.restyleTheme());
  }

  layout() {
    const t = theme();
    return baseLayout({
      xaxis: axis(this.o.xTitle, { rangemode: "tozero" }),
      yaxis: axis(this.o.yTitle, {
        type: this.o.yType || "linear",
        range: this.o.yRange,
        autorange: this.o.yRange ? false : true,
        tickformat: this.o.yTickFormat,
        hoverformat: this.o.hoverFormat,
        exponentformat: "power",
      }),
      margin: { ...t.margin },
      shapes: this.o.shapes || [],
      annotations: this.o.annotations || [],
    });
  }

  /** Fixed reference lines (chance level, loss floors): Plotly shapes and their labels; kept across resets. */
  setGuides(shapes = [], annotations = []) {
    this.o.shapes = shapes;
    this.o.annotations = annotations;
    if (this.ready) window.Plotly.relayout(this.el, { shapes, annotations });
  }

  trace(x, y, faint = false) {
    const t = theme();
    const fmt = this.o.hoverFormat ? ":" + this.o.hoverFormat : "";
    return {
      type: "scatter", mode: "lines", x, y, name: faint ? `${this.o.name || "value"} (each update)` : this.o.name || "",
      line: { color: this.colour, width: faint ? t.thin * 0.8 : t.line }, opacity: faint ? 0.35 : 1,
      connectgaps: false,
      hovertemplate: faint
        ? `update %{x}<br>${this.o.name || "value"} %{y${fmt}}<extra></extra>`
        : `update %{x}<br>${this.o.name || "value"}${this.o.smooth ? " (trend)" : ""} %{y${fmt}}<extra></extra>`,
    };
  }

  /**
   * Exponential moving average for the trend line (noisy batches hide the trend otherwise). Gaps (null) are
   * passed through; the average restarts after one, so a diverged stretch does not smear into later points.
   */
  smoothOne(v) {
    if (v === null || v === undefined || !Number.isFinite(v)) {
      this.ema = null;
      this.n = 0;
      return null;
    }
    this.n = (this.n || 0) + 1;
    const a = Math.max(2 / (20 + 1), 1 / this.n); // plain mean for the first points, then a ~20-update window
    this.ema = this.ema === null || this.ema === undefined ? v : this.ema + a * (v - this.ema);
    return this.ema;
  }

  /** Start over with a colour and (optionally) the history so far. */
  reset(colour, x = [], y = []) {
    this.colour = colour || this.colour;
    this.pending = { x: [], y: [] };
    this.points = x.length;
    this.ema = null;
    this.n = 0;
    const traces = this.o.smooth
      ? [this.trace(x.slice(), y.slice(), true), this.trace(x.slice(), y.map((v) => this.smoothOne(v)))]
      : [this.trace(x.slice(), y.slice())];
    window.Plotly.react(this.el, traces, this.layout(), PLOT_CONFIG);
    this.ready = true;
  }

  /** Queue points; they are drawn by flush() from the render loop. */
  push(x, y) {
    this.pending.x.push(x);
    this.pending.y.push(y);
  }

  hasPending() {
    return this.pending.x.length > 0;
  }

  /** Draw the queued points in one call. Returns the number drawn. */
  flush() {
    const n = this.pending.x.length;
    if (!n || !this.ready) return 0;
    const { x, y } = this.pending;
    this.pending = { x: [], y: [] };
    if (this.o.smooth) {
      const ys = y.map((v) => this.smoothOne(v));
      window.Plotly.extendTraces(this.el, { x: [x, x.slice()], y: [y, ys] }, [0, 1], MAX_POINTS);
    } else {
      window.Plotly.extendTraces(this.el, { x: [x], y: [y] }, [0], MAX_POINTS);
    }
    this.points = Math.min(MAX_POINTS, this.points + n);
    return n;
  }

  restyleTheme() {
    if (!this.ready) return;
    window.Plotly.relayout(this.el, this.layout());
    const t = theme();
    if (this.o.smooth) window.Plotly.restyle(this.el, { "line.width": [t.thin * 0.8, t.line] }, [0, 1]);
    else window.Plotly.restyle(this.el, { "line.width": t.line }, [0]);
  }
}
