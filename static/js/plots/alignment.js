// "Does the rule point where the true gradient points?": the cosine with BPTT over the network's own parameters
// (W_rec, W_in, b — the record's "recurrent" key, CONTRACT §1) in the rule's colour, and over every parameter,
// readout included ("all"), as a thin grey line for comparison. A rule that assigns no credit to the network
// (readout-only: "recurrent" is null) gets no recurrent line at all, and a sentence saying so.

import { PLOT_CONFIG, axis, baseLayout, onThemeChange, theme } from "./common.js";

const ALL_COLOUR = "#8a8a8a";

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
    this.pending = { x: [], rec: [], all: [] };
    this.ready = false;
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

  traces(x, rec, all) {
    const t = theme();
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
    ];
  }

  /** Start over with a colour and the alignment records of a history [{step, alignment}]. */
  reset(colour, records = []) {
    this.colour = colour || this.colour;
    this.pending = { x: [], rec: [], all: [] };
    this.noCredit = false;
    this.sawCredit = false;
    const x = [];
    const rec = [];
    const all = [];
    for (const r of records) {
      const p = alignmentParts(r.alignment);
      if (!p || (p.all === null && p.recurrent === null && !p.none)) continue;
      this.note(p);
      x.push(r.step);
      rec.push(p.recurrent);
      all.push(p.all);
    }
    this.points = x.length;
    window.Plotly.react(this.el, this.traces(x, rec, all), this.layout(), PLOT_CONFIG);
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
    return true;
  }

  /** Forget the queued points (a reset is coming). */
  dropPending() {
    this.pending = { x: [], rec: [], all: [] };
  }

  hasPending() {
    return this.pending.x.length > 0;
  }

  flush() {
    const n = this.pending.x.length;
    if (!n || !this.ready) return 0;
    const { x, rec, all } = this.pending;
    this.pending = { x: [], rec: [], all: [] };
    window.Plotly.extendTraces(this.el, { x: [x, x.slice()], y: [rec, all] }, [0, 1]);
    this.points += n;
    this.showNone();
    return n;
  }

  /** "—" and its sentence, only while the rule has sent no credit into the network at all. */
  showNone() {
    if (this.noneEl) this.noneEl.hidden = !(this.noCredit && !this.sawCredit);
  }
}
