// Shared look for every chart: colours, fonts and line widths (normal and projector mode), Plotly defaults.

/**
 * Okabe–Ito qualitative palette, assigned to credit rules in catalog order; BPTT (the reference) is black.
 * Sky blue and yellow come last: thin lines in them all but vanish on white (and on a washed-out projector), so
 * they are used only when the catalog has more than five other rules.
 */
export const OKABE_ITO = ["#E69F00", "#009E73", "#0072B2", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442"];
export const REFERENCE_COLOUR = "#000000";

/** name → colour for every rule, stable for a given catalog order. */
export function ruleColours(rules) {
  const out = {};
  let i = 0;
  for (const r of rules) {
    if (r.name === "bptt") out[r.name] = REFERENCE_COLOUR;
    else out[r.name] = OKABE_ITO[i++ % OKABE_ITO.length];
  }
  return out;
}

/** Neutral greys for task channels (inputs, targets): they must not be mistaken for a rule's colour. */
export const CHANNEL_GREYS = ["#222222", "#6b6b6b", "#9a9a9a", "#444444", "#858585", "#b0b0b0"];
export const CHANNEL_DASHES = ["solid", "dot", "dashdot", "longdash", "solid", "dot"];

/** Diverging blue–white–red for weights and signed quantities (centred on zero). */
export const DIVERGING = [
  [0.0, "#2166ac"],
  [0.25, "#67a9cf"],
  [0.5, "#f7f7f7"],
  [0.75, "#ef8a62"],
  [1.0, "#b2182b"],
];

/** Viridis, sampled at nine points, for activity. */
export const VIRIDIS = [
  [0.0, "#440154"],
  [0.125, "#482878"],
  [0.25, "#3e4989"],
  [0.375, "#31688e"],
  [0.5, "#26828e"],
  [0.625, "#1f9e89"],
  [0.75, "#35b779"],
  [0.875, "#6ece58"],
  [1.0, "#fde725"],
];

let projector = false;
const listeners = new Set();

export function isProjector() {
  return projector;
}

export function setProjector(on) {
  projector = Boolean(on);
  for (const fn of listeners) fn(projector);
}

/** Call fn(projector) whenever projector mode changes (charts restyle themselves). */
export function onThemeChange(fn) {
  listeners.add(fn);
}

export function theme() {
  return projector
    ? { font: 20, tick: 18, line: 4.5, thin: 2.5, margin: { l: 78, r: 18, t: 12, b: 62 } }
    : { font: 13, tick: 12, line: 2.2, thin: 1.3, margin: { l: 58, r: 12, t: 8, b: 44 } };
}

export const FONT_STACK = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';

export function baseLayout(extra = {}) {
  const t = theme();
  return {
    autosize: true,
    margin: { ...t.margin },
    font: { family: FONT_STACK, size: t.font, color: "#1a1a1a" },
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "#ffffff",
    showlegend: false,
    hovermode: "closest",
    uirevision: "keep",
    ...extra,
  };
}

export function axis(title, extra = {}) {
  const t = theme();
  return {
    title: { text: title, standoff: 6, font: { size: t.font } },
    tickfont: { size: t.tick },
    gridcolor: "#e6e6e6",
    zerolinecolor: "#bdbdbd",
    linecolor: "#8a8a8a",
    showline: true,
    ...extra,
  };
}

export const PLOT_CONFIG = { displayModeBar: false, displaylogo: false, responsive: true, scrollZoom: false };

export function hasPlotly() {
  return typeof window.Plotly !== "undefined";
}

/** "1, 2, 5 × 10^k" ceiling: a round number at or above x, so fixed colour limits read nicely. */
export function niceCeil(x) {
  if (!(x > 0) || !Number.isFinite(x)) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 5, 10]) if (m * p >= x) return m * p;
  return 10 * p;
}

/**
 * Colour limits that never jump frame to frame: set once from the first frame, and only ever widened (to the next
 * round number, with head-room) when values outgrow them.
 */
export class StickyLimit {
  constructor(headroom = 1.25) {
    this.headroom = headroom;
    this.value = null;
  }
  reset(value = null) {
    this.value = value;
  }
  update(maxAbs, fallback = 1) {
    if (!Number.isFinite(maxAbs)) return this.value ?? fallback;
    if (this.value === null) this.value = maxAbs > 0 ? niceCeil(maxAbs * this.headroom) : fallback;
    else if (maxAbs > this.value) this.value = niceCeil(maxAbs * this.headroom);
    return this.value;
  }
}

/**
 * Symmetric colour limits that follow the data without jumping: they rise at once to cover a larger value, and
 * shrink when the values get smaller, so a signal that fades as the network converges stays visible instead of
 * turning white under limits fixed at its first, larger values. The shrink is geometric (a fraction of the gap
 * in log scale per frame): a learning signal can fall by orders of magnitude in a second, and a linear step would
 * leave it faint for many frames.
 *
 *     L ← max(m, L · (m / L)^rate)   for the frame's largest |value| m                                      (1)
 */
export class SmoothLimit {
  constructor(rate = 0.5) {
    this.rate = rate;
    this.value = null;
  }
  reset() {
    this.value = null;
  }
  update(m, fallback = 1) {
    if (!Number.isFinite(m) || m <= 0) return this.value ?? fallback;
    this.value = this.value === null ? m : Math.max(m, this.value * Math.pow(m / this.value, this.rate)); // Eq. (1)
    return this.value;
  }
}

export function maxAbs(data) {
  let m = 0;
  for (let i = 0; i < data.length; i++) {
    const v = Math.abs(data[i]);
    if (v > m) m = v; // NaN compares false and is skipped
  }
  return m;
}

/** Rows of a row-major Float32Array [rows, cols] as plain arrays (what Plotly heatmaps take), NaN → null. */
export function toRows(data, rows, cols) {
  const out = new Array(rows);
  for (let r = 0; r < rows; r++) {
    const row = new Array(cols);
    for (let c = 0; c < cols; c++) {
      const v = data[r * cols + c];
      row[c] = Number.isFinite(v) ? v : null;
    }
    out[r] = row;
  }
  return out;
}

/** Column k of a row-major [T, K] array, NaN → null. */
export function column(data, T, K, k) {
  const out = new Array(T);
  for (let t = 0; t < T; t++) {
    const v = data[t * K + k];
    out[t] = Number.isFinite(v) ? v : null;
  }
  return out;
}

/** Contiguous ranges [start, stop) where mask > 0. */
export function maskRanges(mask) {
  const out = [];
  let start = -1;
  for (let t = 0; t <= mask.length; t++) {
    const on = t < mask.length && mask[t] > 0;
    if (on && start < 0) start = t;
    if (!on && start >= 0) {
      out.push([start, t]);
      start = -1;
    }
  }
  return out;
}

const PERIOD_FILLS = ["rgba(0,0,0,0.035)", "rgba(0,0,0,0.085)"];

/** Plotly shapes + annotations that shade the named periods of a trial and mark where the answer is judged. */
export function periodDecor(periods, mask) {
  const shapes = [];
  const annotations = [];
  const t = theme();
  (periods || []).forEach((p, i) => {
    shapes.push({
      type: "rect", xref: "x", yref: "paper", x0: p.start - 0.5, x1: p.stop - 0.5, y0: 0, y1: 1,
      fillcolor: PERIOD_FILLS[i % 2], line: { width: 0 }, layer: "below",
    });
    annotations.push({
      x: (p.start + p.stop - 1) / 2, y: 1, xref: "x", yref: "paper", yanchor: "bottom", showarrow: false,
      text: p.name, font: { size: t.tick, color: "#444" },
    });
  });
  for (const [a, b] of maskRanges(mask || [])) {
    shapes.push({
      type: "rect", xref: "x", yref: "paper", x0: a - 0.5, x1: b - 0.5, y0: 0, y1: 0.035,
      fillcolor: "rgba(80,80,80,0.55)", line: { width: 0 }, layer: "above",
    });
  }
  return { shapes, annotations };
}

/**
 * Decor for the network's answer: only the judged steps (mask > 0) are shaded, full height, since only they count
 * in the loss; period names stay as labels at the top, with a faint line where each period begins.
 */
export function judgedDecor(periods, mask) {
  const shapes = [];
  const annotations = [];
  const t = theme();
  (periods || []).forEach((p, i) => {
    if (i > 0) {
      shapes.push({ type: "line", xref: "x", yref: "paper", x0: p.start - 0.5, x1: p.start - 0.5, y0: 0, y1: 1,
        line: { color: "rgba(0,0,0,0.18)", width: 1 }, layer: "below" });
    }
    annotations.push({
      x: (p.start + p.stop - 1) / 2, y: 1, xref: "x", yref: "paper", yanchor: "bottom", showarrow: false,
      text: p.name, font: { size: t.tick, color: "#444" },
    });
  });
  for (const [a, b] of maskRanges(mask || [])) {
    shapes.push({ type: "rect", xref: "x", yref: "paper", x0: a - 0.5, x1: b - 0.5, y0: 0, y1: 1,
      fillcolor: "rgba(0,0,0,0.09)", line: { width: 0 }, layer: "below", name: "judged" });
  }
  return { shapes, annotations };
}
