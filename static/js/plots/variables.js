// The state variables a network declares (a GRU's update and reset gates, …) over the example trial: one canvas
// raster per variable, units × time, sequential colours (viridis), titled with what the network says the variable
// is. Data: the snapshot's variables.<name> arrays [T, n] and meta.variables {name: description}
// (engine/views/variables.py, docs/protocol.md). Nothing here knows which network sent them.

import { humanise, smallMultiple } from "./figure.js";
import { Raster } from "./raster.js";

export class VariableView {
  constructor(box) {
    this.box = box;
    box.className = "variable-grid";
    this.panels = new Map();
    this.frames = 0;
  }

  panel(name, about) {
    let p = this.panels.get(name);
    if (p) return p;
    const h = document.createElement("h3");
    h.className = "variable-name";
    h.textContent = humanise(name);
    const note = document.createElement("p");
    note.className = "chart-note";
    note.textContent = about || "";
    const { el, box } = smallMultiple(this.box, { className: "variable-panel", name, head: [h, note], boxClass: "raster variable-raster" });
    const raster = new Raster(box, {
      map: "viridis", xTitle: "trial time (steps)", yTitle: "unit", label: `${humanise(name)} of each unit over the example trial`,
      hover: (r, c, v) => `unit ${r}, step ${c}: ${v}`,
    });
    p = { el, raster };
    this.panels.set(name, p);
    return p;
  }

  /** Draw from a snapshot's arrays and meta; ``decor``: the trial's {periods, mask}. */
  draw(arrays, meta, decor = {}) {
    const about = meta.variables || {};
    const names = Object.keys(arrays).filter((k) => k.startsWith("variables.")).map((k) => k.slice(10));
    for (const [name, p] of this.panels) {
      if (!names.includes(name)) {
        p.el.remove();
        this.panels.delete(name);
      }
    }
    for (const name of names) {
      const a = arrays[`variables.${name}`];
      this.panel(name, about[name]).raster.draw(a.data, a.shape, decor);
    }
    this.frames += 1;
  }
}
