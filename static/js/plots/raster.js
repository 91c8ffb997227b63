// Dense images (units × time) on a plain <canvas>: one pixel per value, scaled up by CSS without smoothing.
// Used for activity (viridis) and for rule signals such as learning signals and eligibility traces (diverging).

import { DIVERGING, SmoothLimit, StickyLimit, VIRIDIS, maxAbs, maskRanges } from "./common.js";

function hexToRgb(h) {
  const n = parseInt(h.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** 256-entry RGB lookup table interpolated from [[position, "#rrggbb"], ...]. */
function makeLut(stops) {
  const lut = new Uint8ClampedArray(256 * 3);
  const pts = stops.map(([p, c]) => [p, hexToRgb(c)]);
  for (let i = 0; i < 256; i++) {
    const x = i / 255;
    let k = 0;
    while (k < pts.length - 2 && x > pts[k + 1][0]) k++;
    const [p0, c0] = pts[k];
    const [p1, c1] = pts[k + 1];
    const f = p1 > p0 ? Math.min(1, Math.max(0, (x - p0) / (p1 - p0))) : 0;
    for (let j = 0; j < 3; j++) lut[i * 3 + j] = Math.round(c0[j] + f * (c1[j] - c0[j]));
  }
  return lut;
}

const LUTS = { viridis: makeLut(VIRIDIS), diverging: makeLut(DIVERGING) };

function cssGradient(stops) {
  return `linear-gradient(to top, ${stops.map(([p, c]) => `${c} ${Math.round(p * 100)}%`).join(", ")})`;
}

function fmt(v) {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 100 || a < 0.01) return v.toExponential(0).replace("+", "");
  return String(Number(v.toPrecision(2)));
}

export class Raster {
  /**
   * @param {HTMLElement} el container (fixed size)
   * @param {object} o {map: "viridis"|"diverging", xTitle, yTitle, label}
   */
  constructor(el, o) {
    this.el = el;
    this.o = o;
    this.map = o.map || "viridis";
    // "time": data is time-major [T, n], drawn as n rows × T columns. "matrix": data [rows, cols] drawn as is.
    this.layout = o.layout || "time";
    this.frames = 0;
    // o.limits "smooth": limits follow the data (signals that fade); otherwise they only ever widen (weights).
    this.limit = o.limits === "smooth" ? new SmoothLimit() : new StickyLimit(1.1);
    this.lo = null;
    this.hi = null;
    el.classList.add("raster-box", `layout-${this.layout}`);
    el.innerHTML = "";
    const y = document.createElement("div");
    y.className = "r-ytitle";
    y.textContent = o.yTitle;
    const plot = document.createElement("div");
    plot.className = "r-plot";
    this.canvas = document.createElement("canvas");
    this.canvas.width = 1;
    this.canvas.height = 1;
    this.canvas.setAttribute("role", "img");
    this.canvas.setAttribute("aria-label", o.label || o.yTitle);
    this.periods = document.createElement("div");
    this.periods.className = "r-periods";
    this.mask = document.createElement("div");
    this.mask.className = "r-mask";
    this.yTicks = document.createElement("div");
    this.yTicks.className = "r-yticks";
    this.xTicks = document.createElement("div");
    this.xTicks.className = "r-xticks";
    this.hover = document.createElement("div");
    this.hover.className = "r-hover";
    this.hover.setAttribute("aria-hidden", "true");
    plot.append(this.canvas, this.periods, this.mask, this.yTicks, this.xTicks, this.hover);
    this.plot = plot;
    this.canvas.addEventListener("pointermove", (e) => this.showHover(e));
    this.canvas.addEventListener("pointerleave", () => (this.hover.textContent = ""));
    const x = document.createElement("div");
    x.className = "r-xtitle";
    x.textContent = o.xTitle;
    const bar = document.createElement("div");
    bar.className = "r-bar";
    this.barHi = document.createElement("span");
    this.barLo = document.createElement("span");
    const grad = document.createElement("div");
    grad.className = "r-grad";
    grad.style.background = cssGradient(this.map === "viridis" ? VIRIDIS : DIVERGING);
    bar.append(this.barHi, grad, this.barLo);
    el.append(y, plot, bar, x);
  }

  /** {row, col} of the cell under a pointer event (canvas pixels: for a matrix, its row and column), or null. */
  cellAt(e) {
    const r = this.canvas.getBoundingClientRect();
    const col = Math.floor(((e.clientX - r.left) / r.width) * this.canvas.width);
    const row = Math.floor(((e.clientY - r.top) / r.height) * this.canvas.height);
    if (col < 0 || row < 0 || col >= this.canvas.width || row >= this.canvas.height) return null;
    return { row, col };
  }

  /** The value under the pointer, in words (no tooltip library: a small label in the corner). */
  showHover(e) {
    if (!this.last) return;
    const cell = this.cellAt(e);
    if (!cell) return;
    const { row, col } = cell;
    const { data, cols } = this.last;
    const v = this.layout === "matrix" ? data[row * cols + col] : data[col * cols + row];
    const text = Number.isFinite(v) ? v.toPrecision(3) : "not a number";
    this.hover.textContent = this.o.hover ? this.o.hover(row, col, text) : `row ${row}, column ${col}: ${text}`;
  }

  reset() {
    this.limit.reset();
    this.lo = null;
    this.hi = null;
    this.decorKey = null;
  }

  /** Sticky [lo, hi]: widened (never narrowed) so colours keep their meaning while the run goes on. */
  range(data) {
    if (this.map === "diverging") {
      const l = this.limit.update(maxAbs(data), 1);
      return [-l, l];
    }
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [this.lo ?? 0, this.hi ?? 1];
    if (hi - lo < 1e-6) hi = lo + 1e-6;
    if (this.lo === null || lo < this.lo) this.lo = lo >= 0 && lo < 0.05 * hi ? 0 : lo;
    if (this.hi === null || hi > this.hi) this.hi = hi;
    return [this.lo, this.hi];
  }

  /**
   * Draw a time-major [T, n] array as n rows × T columns.
   * @param {Float32Array} data
   * @param {number[]} shape [T, n]
   * @param {object} decor {periods, mask}
   */
  draw(data, shape, decor = {}, fixedRange = null) {
    const [A, B] = shape.length === 2 ? shape : [shape[0], 1];
    // Canvas width × height: time × units for "time" data, cols × rows for a matrix.
    const [W, H] = this.layout === "matrix" ? [B, A] : [A, B];
    if (this.canvas.width !== W || this.canvas.height !== H) {
      this.canvas.width = W;
      this.canvas.height = H;
      this.img = null;
      this.el.style.setProperty("--aspect", String(W / H));
    }
    this.last = { data, cols: B };
    const ctx = this.canvas.getContext("2d");
    if (!this.img) this.img = ctx.createImageData(W, H);
    const px = this.img.data;
    const [lo, hi] = fixedRange || this.range(data);
    const scale = 255 / (hi - lo);
    const lut = LUTS[this.map];
    const matrix = this.layout === "matrix";
    for (let a = 0; a < A; a++) {
      for (let b = 0; b < B; b++) {
        const v = data[a * B + b];
        const o = matrix ? (a * W + b) * 4 : (b * W + a) * 4;
        if (!Number.isFinite(v)) {
          px[o] = 200; px[o + 1] = 200; px[o + 2] = 200; px[o + 3] = 255;
          continue;
        }
        let k = Math.round((v - lo) * scale);
        k = k < 0 ? 0 : k > 255 ? 255 : k;
        px[o] = lut[k * 3];
        px[o + 1] = lut[k * 3 + 1];
        px[o + 2] = lut[k * 3 + 2];
        px[o + 3] = 255;
      }
    }
    ctx.putImageData(this.img, 0, 0);
    this.barHi.textContent = fmt(hi);
    this.barLo.textContent = fmt(lo);
    this.decorate(W, H, decor);
    this.frames += 1;
  }

  decorate(T, n, { periods = [], mask = null } = {}) {
    const key = JSON.stringify([T, n, periods, mask ? Array.from(mask) : null]);
    if (key === this.decorKey) return;
    this.decorKey = key;
    this.periods.replaceChildren();
    for (const p of periods) {
      const d = document.createElement("span");
      d.className = "r-period";
      d.style.left = `${(100 * p.start) / T}%`;
      d.style.width = `${(100 * (p.stop - p.start)) / T}%`;
      d.title = `${p.name}: steps ${p.start}–${p.stop - 1}`;
      const lab = document.createElement("span");
      lab.textContent = p.name;
      d.append(lab);
      this.periods.append(d);
    }
    this.mask.replaceChildren();
    if (mask) {
      for (const [a, b] of maskRanges(mask)) {
        const d = document.createElement("span");
        d.style.left = `${(100 * a) / T}%`;
        d.style.width = `${(100 * (b - a)) / T}%`;
        this.mask.append(d);
      }
    }
    this.xTicks.innerHTML = `<span>0</span><span>${T - 1}</span>`;
    this.yTicks.innerHTML = `<span>0</span><span>${n - 1}</span>`;
  }
}
