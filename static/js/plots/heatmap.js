// A weight matrix on a canvas: diverging blue–white–red centred on zero, with fixed symmetric colour limits.
// (A Plotly heatmap costs tens of milliseconds per update; a canvas image costs well under one.)

import { StickyLimit, maxAbs } from "./common.js";
import { Raster } from "./raster.js";

export class WeightHeatmap {
  /** @param o {xTitle, yTitle, label, hover(row, col, text)} */
  constructor(el, o) {
    this.raster = new Raster(el, { map: "diverging", layout: "matrix", ...o });
    this.limit = new StickyLimit(1.2);
    this.frames = 0;
  }

  /** Forget the limits (a new run). */
  reset(limit = null) {
    this.limit.reset(limit);
  }

  /** Draw a row-major [rows, cols] Float32Array; the colour limits only ever widen, in round steps. */
  draw(data, shape, fallbackLimit = 1) {
    const lim = this.limit.update(maxAbs(data), fallbackLimit);
    this.raster.draw(data, shape.length === 2 ? shape : [1, shape[0]], {}, [-lim, lim]);
    this.frames += 1;
  }
}
