// A chart figure made on first use (for parts of a snapshot that only some networks or rules have): a title, the
// "What am I looking at?" button and its note, and an empty box for the chart, in the lab page's chart markup.

import { nameAbout } from "../about.js";

/** {fig, box}: a <figure class="chart has-data" id="chart-<id>"> with the title, note and box (not yet placed). */
export function chartFigure({ id, kind, title, about }) {
  const fig = document.createElement("figure");
  fig.className = "chart has-data";
  fig.id = `chart-${id}`;
  fig.dataset.kind = kind;
  const cap = document.createElement("figcaption");
  const h = document.createElement("h2");
  h.textContent = title;
  const btn = document.createElement("button");
  btn.type = "button";
  btn.className = "about";
  btn.setAttribute("aria-expanded", "false");
  btn.setAttribute("aria-controls", `about-${id}`);
  btn.textContent = "What am I looking at?";
  cap.append(h, btn);
  const note = document.createElement("p");
  note.className = "about-text";
  note.id = `about-${id}`;
  note.hidden = true;
  note.textContent = about;
  const box = document.createElement("div");
  fig.append(cap, note, box);
  nameAbout(btn);
  return { fig, box };
}

/** "update_gate" → "Update gate". */
export function humanise(name) {
  const s = name.replace(/_/g, " ");
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** One small multiple inside ``parent``: a <div class=className data-name=name> holding ``head`` (elements) and
 * then an empty chart box of class ``boxClass``; returns {el, box}. */
export function smallMultiple(parent, { className, name, head = [], boxClass }) {
  const el = document.createElement("div");
  el.className = className;
  el.dataset.name = name;
  const box = document.createElement("div");
  box.className = boxClass;
  el.append(...head, box);
  parent.append(el);
  return { el, box };
}
