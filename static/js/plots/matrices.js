// Every weight matrix a network declares, as small multiples: one canvas heatmap per matrix, labelled with the
// network's own name (W_rec, W_in, W_out; a GRU's W_hz … W_xn), each with its own fixed, symmetric, diverging colour
// limits. A toggle switches all of them between the weights now and their change since the start.
// Data: the snapshot's weights.<name> and weights.<name>_change arrays (docs/protocol.md), in the network's order.

import { smallMultiple } from "./figure.js";
import { WeightHeatmap } from "./heatmap.js";

/** The declared matrices of a snapshot's arrays, in order: names of ``weights.*`` that are not ``*_change``. */
export function matrixNames(arrays) {
  return Object.keys(arrays).filter((k) => k.startsWith("weights.") && !k.endsWith("_change")).map((k) => k.slice(8));
}

export class MatrixGrid {
  /** @param box an element to fill: the now / change toggle and a grid of cells */
  constructor(box) {
    this.box = box;
    box.className = "matrix-grid-box";
    this.mode = "now";
    const bar = document.createElement("div");
    bar.className = "matrix-mode";
    bar.setAttribute("role", "group");
    bar.setAttribute("aria-label", "Show the weights now or their change since the start");
    this.buttons = {};
    for (const [mode, text] of [["now", "Weights now"], ["change", "Change since the start"]]) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "btn btn-quiet";
      b.textContent = text;
      b.setAttribute("aria-pressed", String(mode === this.mode));
      b.addEventListener("click", () => this.setMode(mode));
      this.buttons[mode] = b;
      bar.append(b);
    }
    this.grid = document.createElement("div");
    this.grid.className = "matrix-grid";
    box.append(bar, this.grid);
    this.cells = new Map();
    this.frames = 0;
  }

  setMode(mode) {
    if (mode === this.mode) return;
    this.mode = mode;
    for (const [m, b] of Object.entries(this.buttons)) b.setAttribute("aria-pressed", String(m === mode));
    for (const c of this.cells.values()) c.map.reset(); // the other quantity has its own scale
    if (this.last) this.draw(this.last);
  }

  cell(name) {
    let c = this.cells.get(name);
    if (c) return c;
    const label = document.createElement("p");
    label.className = "matrix-name";
    const { el, box } = smallMultiple(this.grid, { className: "matrix-cell", name, head: [label], boxClass: "raster matrix-raster" });
    const map = new WeightHeatmap(box, {
      xTitle: "from", yTitle: "to", label: `Weight matrix ${name}`,
      hover: (r, col, v) => `${name}: to ${r} from ${col}: ${v}`,
    });
    c = { el, label, map };
    this.cells.set(name, c);
    return c;
  }

  /** Draw from a snapshot's arrays ({name: {shape, data}}). */
  draw(arrays) {
    this.last = arrays;
    const names = matrixNames(arrays);
    for (const [name, c] of this.cells) {
      if (!names.includes(name)) {
        c.el.remove();
        this.cells.delete(name);
      }
    }
    for (const name of names) {
      const a = arrays[`weights.${name}${this.mode === "change" ? "_change" : ""}`] || arrays[`weights.${name}`];
      const c = this.cell(name);
      const [rows, cols] = a.shape.length === 2 ? a.shape : [1, a.shape[0]];
      c.label.textContent = `${name} (${rows} × ${cols})`;
      c.map.draw(a.data, a.shape, this.mode === "change" ? 0.01 : 1);
    }
    this.frames += 1;
  }
}
