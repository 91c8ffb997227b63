// A growing line over updates (loss, accuracy, alignment): SVG scatter, batched extendTraces at most ~10 Hz.
//
// A long run does not lose its start: past MAX_DRAWN points the chart keeps every other drawn point (the first
// and the newest always) and from then on draws every stride-th update, the stride doubling each time. The
// trend line is still averaged over every update; only what is drawn is thinned, and the curve always ends at the
// newest update.

import { PLOT_CONFIG, axis, baseLayout, onThemeChange, theme } from "./common.js";

const MAX_DRAWN = 4000;

export class LineChart {
  /**
   * @param {HTMLElement} el the fixed-size plot box
   * @param {object} o {xTitle, yTitle, yType ("linear"|"log"), yRange, yTickFormat, hoverFormat, name}
   */
  constructor(el, o) {
    this.el = el;
    this.o = o;
    this.colour = "#000000";
    this.points = 0; // updates received (drawn or thinned away)
    this.pending = { x: [], y: [] };
    this.drawn = { x: [], y: [], s: [] };
    this.stride = 1;
    this.tail = false; // the newest point is drawn off the stride (kept only until the next one arrives)
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
      // a pinned run needs telling apart from the live one
      showlegend: Boolean(this.ghost),
      legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom", bgcolor: "rgba(255,255,255,0.6)" },
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
      connectgaps: false, showlegend: !faint,
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
    this.stride = 1;
    this.tail = false;
    this.drawn = { x: x.slice(), y: y.slice(), s: this.o.smooth ? y.map((v) => this.smoothOne(v)) : [] };
    this.thin();
    this.redraw();
    this.ready = true;
  }

  traces() {
    const d = this.drawn;
    const own = this.o.smooth
      ? [this.trace(d.x.slice(), d.y.slice(), true), this.trace(d.x.slice(), d.s.slice())]
      : [this.trace(d.x.slice(), d.y.slice())];
    return this.ghost ? [...own, this.ghostTrace()] : own; // after the run's own traces: their indices stay 0, 1
  }

  /** A pinned earlier run, drawn as a grey dashed line under the next runs (kept across resets). */
  ghostTrace() {
    const g = this.ghost;
    return {
      type: "scatter", mode: "lines", x: g.x, y: g.y, name: `pinned: ${g.name}`, opacity: 0.55,
      line: { color: "#777777", width: theme().line, dash: "dash" }, connectgaps: false,
      hovertemplate: `update %{x}<br>pinned ${g.name} %{y}<extra></extra>`,
    };
  }

  /** What this chart draws as the run's curve (the trend when smoothed), to pin it as a ghost elsewhere. */
  curve() {
    if (this.ready && this.hasPending()) this.flush(); // every update received belongs to the pinned curve
    const d = this.drawn;
    return { x: d.x.slice(), y: (this.o.smooth ? d.s : d.y).slice() };
  }

  /** Pin {x, y, name} as a ghost under the curves (null: unpin). */
  pin(ghost) {
    this.ghost = ghost;
    if (this.ready) this.redraw();
  }

  redraw() {
    window.Plotly.react(this.el, this.traces(), this.layout(), PLOT_CONFIG);
  }

  /** Halve what is drawn until it fits (keep even positions and the newest point); returns whether it changed. */
  thin() {
    let changed = false;
    while (this.drawn.x.length > MAX_DRAWN) {
      const keep = (_, i, a) => i % 2 === 0 || i === a.length - 1;
      this.drawn = { x: this.drawn.x.filter(keep), y: this.drawn.y.filter(keep), s: this.drawn.s.filter(keep) };
      this.stride *= 2;
      changed = true;
    }
    return changed;
  }

  /** Queue points; they are drawn by flush() from the render loop. */
  push(x, y) {
    this.pending.x.push(x);
    this.pending.y.push(y);
  }

  /** Forget the queued points (a reset is coming). */
  dropPending() {
    this.pending = { x: [], y: [] };
  }

  hasPending() {
    return this.pending.x.length > 0;
  }

  /** Draw the queued points in one call. Returns the number received. */
  flush() {
    const n = this.pending.x.length;
    if (!n || !this.ready) return 0;
    const { x, y } = this.pending;
    this.pending = { x: [], y: [] };
    const d = this.drawn;
    const add = { x: [], y: [], s: [] };
    for (let i = 0; i < n; i++) {
      const s = this.o.smooth ? this.smoothOne(y[i]) : null;
      const k = this.points + i;
      if (k % this.stride === 0 || i === n - 1) {
        add.x.push(x[i]);
        add.y.push(y[i]);
        add.s.push(s);
      }
    }
    this.points += n;
    if (this.stride === 1 && !this.tail) {
      // Dense and nothing to take back: append in place (cheap).
      for (const k of ["x", "y", "s"]) d[k].push(...add[k]);
      if (this.o.smooth) window.Plotly.extendTraces(this.el, { x: [add.x, add.x.slice()], y: [add.y, add.s] }, [0, 1]);
      else window.Plotly.extendTraces(this.el, { x: [add.x], y: [add.y] }, [0]);
      if (this.thin()) this.redraw();
    } else {
      if (this.tail) for (const k of ["x", "y", "s"]) d[k].pop(); // the previous newest point was off the stride
      for (const k of ["x", "y", "s"]) d[k].push(...add[k]);
      this.thin();
      this.redraw();
    }
    this.tail = (this.points - 1) % this.stride !== 0;
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
