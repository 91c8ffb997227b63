// "Does the rule point where the true gradient points?": the cosine with BPTT over the network's own parameters
// (W_rec, W_in, b — the record's "recurrent" key, CONTRACT §1) in the rule's colour, and over every parameter,
// readout included ("all"), as a thin grey line for comparison. A rule that assigns no credit to the network
// (readout-only: "recurrent" is null) gets no recurrent line at all, and a sentence saying so.
//
// A stochastic rule (the catalog's ``stochastic``: UORO, node perturbation) makes a fresh random estimate at every
// update, so single cosines scatter. For it the chart adds a band, the rolling mean ± one standard deviation of the
// last BAND_WINDOW measured cosines (each band point uses only the measurements up to it), and a note that one
// estimate is noisy while its average is unbiased. Deterministic rules keep the plain line.

import { PLOT_CONFIG, axis, baseLayout, onThemeChange, theme } from "./common.js";

const ALL_COLOUR = "#8a8a8a";
/** How many recent measurements the band of a stochastic rule summarises. */
export const BAND_WINDOW = 20;
const STOCHASTIC_NOTE = "This rule's update is a random estimate: one estimate is noisy (the dots scatter), but " +
  "its average is unbiased. The shaded band is the mean ± one standard deviation of the last " + BAND_WINDOW +
  " measurements.";

/** Rolling mean ± sd of the finite values among the last ``window`` (null before two are there). */
export function bandPoint(values, window = BAND_WINDOW) {
  const v = values.slice(-window).filter((x) => typeof x === "number" && Number.isFinite(x));
  if (v.length < 2) return [null, null];
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  const sd = Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1));
  return [Math.max(-1, m - sd), Math.min(1, m + sd)];
}

function hexA(hex, alpha) {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

function finite(v) {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

/** {recurrent, all, none} from one alignment record (a dict per CONTRACT §1, or an older bare number). */
export function alignmentParts(a) {
  if (a === null || a === undefined) return null;
  if (typeof a === "number") return { recurrent: null, all: finite(a), none: false };
  if (typeof a !== "object") return null;
  const hasRec = Object.prototype.hasOwnProperty.call(a, "recurrent");
  return { recurrent: finite(a.recurrent), all: finite(a.all), none: hasRec && a.recurrent === null };
}

export class AlignmentChart {
  constructor(el, noneEl) {
    this.el = el;
    this.noneEl = noneEl;
    this.colour = "#000000";
    this.points = 0;
    this.noCredit = false;
    this.pending = { x: [], rec: [], all: [], lo: [], hi: [] };
    this.ready = false;
    this.stochastic = false;
    this.recent = []; // the last BAND_WINDOW recurrent cosines (band of a stochastic rule)
    this.noteEl = document.createElement("p");
    this.noteEl.className = "chart-note align-spread";
    el.after(this.noteEl);
    onThemeChange(() => this.ready && window.Plotly.relayout(this.el, this.layout()));
  }

  layout() {
    return baseLayout({
      xaxis: axis("update", { rangemode: "tozero" }),
      yaxis: axis("cosine with BPTT's gradient", { range: [-1.05, 1.05], autorange: false, hoverformat: ".2f" }),
      margin: { ...theme().margin },
      showlegend: true,
      legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom", font: { size: theme().tick } },
    });
  }

  traces(x, rec, all, lo = [], hi = []) {
    const t = theme();
    const band = this.stochastic ? [
      {
        type: "scatter", mode: "lines", x: x.slice(), y: lo, name: "spread", showlegend: false, connectgaps: false,
        line: { width: 0, color: this.colour }, hoverinfo: "skip",
      },
      {
        type: "scatter", mode: "lines", x: x.slice(), y: hi, name: `mean ± sd of the last ${BAND_WINDOW}`,
        connectgaps: false, fill: "tonexty", fillcolor: hexA(this.colour, 0.22), line: { width: 0, color: this.colour },
        hovertemplate: "update %{x}<br>upper edge %{y:.2f}<extra></extra>",
      },
    ] : [];
    return [
      {
        type: "scatter", mode: "lines+markers", x, y: rec, name: "network (W_rec, W_in, b)", connectgaps: false,
        line: { color: this.colour, width: t.line }, marker: { size: 4, color: this.colour },
        hovertemplate: "update %{x}<br>network's cosine %{y:.2f}<extra></extra>",
      },
      {
        type: "scatter", mode: "lines", x: x.slice(), y: all, name: "all, readout included", connectgaps: false,
        line: { color: ALL_COLOUR, width: t.thin, dash: "dot" },
        hovertemplate: "update %{x}<br>cosine over all weights %{y:.2f}<extra></extra>",
      },
      ...band,
    ];
  }

  /** The band's next point after one recurrent cosine ([null, null] until two are there). */
  bandStep(value) {
    this.recent.push(value);
    if (this.recent.length > BAND_WINDOW) this.recent.shift();
    return bandPoint(this.recent);
  }

  /** Start over with a colour and the alignment records of a history [{step, alignment}]; ``stochastic``: the
   * rule's updates are random estimates (draw their spread). */
  reset(colour, records = [], stochastic = this.stochastic) {
    this.colour = colour || this.colour;
    this.stochastic = Boolean(stochastic);
    this.noteEl.textContent = this.stochastic ? STOCHASTIC_NOTE : "";
    this.pending = { x: [], rec: [], all: [], lo: [], hi: [] };
    this.recent = [];
    this.noCredit = false;
    this.sawCredit = false;
    const x = [];
    const rec = [];
    const all = [];
    const lo = [];
    const hi = [];
    for (const r of records) {
      const p = alignmentParts(r.alignment);
      if (!p || (p.all === null && p.recurrent === null && !p.none)) continue;
      this.note(p);
      x.push(r.step);
      rec.push(p.recurrent);
      all.push(p.all);
      const [l, h] = this.bandStep(p.recurrent);
      lo.push(l);
      hi.push(h);
    }
    this.points = x.length;
    window.Plotly.react(this.el, this.traces(x, rec, all, lo, hi), this.layout(), PLOT_CONFIG);
    this.ready = true;
    this.showNone();
  }

  note(p) {
    if (p.recurrent !== null) this.sawCredit = true;
    if (p.none) this.noCredit = true;
  }

  /** Queue one record's alignment; false when it carries none. */
  push(step, a) {
    const p = alignmentParts(a);
    if (!p || (p.all === null && p.recurrent === null && !p.none)) return false;
    this.note(p);
    this.pending.x.push(step);
    this.pending.rec.push(p.recurrent);
    this.pending.all.push(p.all);
    const [l, h] = this.bandStep(p.recurrent);
    this.pending.lo.push(l);
    this.pending.hi.push(h);
    return true;
  }

  /** Forget the queued points (a reset is coming). */
  dropPending() {
    this.pending = { x: [], rec: [], all: [], lo: [], hi: [] };
  }

  hasPending() {
    return this.pending.x.length > 0;
  }

  flush() {
    const n = this.pending.x.length;
    if (!n || !this.ready) return 0;
    const { x, rec, all, lo, hi } = this.pending;
    this.pending = { x: [], rec: [], all: [], lo: [], hi: [] };
    if (this.stochastic) {
      window.Plotly.extendTraces(this.el, { x: [x, x.slice(), x.slice(), x.slice()], y: [rec, all, lo, hi] }, [0, 1, 2, 3]);
    } else {
      window.Plotly.extendTraces(this.el, { x: [x, x.slice()], y: [rec, all] }, [0, 1]);
    }
    this.points += n;
    this.showNone();
    return n;
  }

  /** "—" and its sentence, only while the rule has sent no credit into the network at all. */
  showNone() {
    if (this.noneEl) this.noneEl.hidden = !(this.noCredit && !this.sawCredit);
  }
}
