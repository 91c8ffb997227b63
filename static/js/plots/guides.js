// Reference lines a task brings to the live charts (catalog metadata, CONTRACT §4): the chance level on the accuracy
// chart and the loss floors on the loss chart (e.g. Add's 0.662 / 0.519 / 0.454), each labelled in words.

import { theme } from "./common.js";

function hline(y, dash, colour) {
  return { type: "line", xref: "paper", yref: "y", x0: 0, x1: 1, y0: y, y1: y, layer: "below",
    line: { color: colour, width: 1.6, dash } };
}

function label(y, text, colour, yshift = 0) {
  return { xref: "paper", yref: "y", x: 1, y, xanchor: "right", yanchor: "bottom", showarrow: false, text,
    yshift, font: { size: theme().tick, color: colour }, bgcolor: "rgba(255,255,255,0.75)" };
}

/** {acc: {shapes, annotations}, loss: {shapes, annotations}} for a catalog task entry (or none). */
export function taskGuides(task) {
  const acc = { shapes: [], annotations: [] };
  const loss = { shapes: [], annotations: [] };
  if (task && typeof task.chance === "number") {
    const y = 100 * task.chance;
    acc.shapes.push(hline(y, "dash", "#555"));
    acc.annotations.push(label(y, `chance ${Math.round(y)} %`, "#444"));
  }
  const floors = Array.isArray(task?.loss_floors) ? task.loss_floors : [];
  const greys = ["#9a9a9a", "#6b6b6b", "#222222"];
  floors.forEach((f, i) => {
    const c = greys[Math.min(i, greys.length - 1)];
    // The loss axis is logarithmic: Plotly places a shape there at the value itself, an annotation at its log10.
    loss.shapes.push({ ...hline(f.value, i === floors.length - 1 ? "dash" : "dot", c), name: `floor ${f.value}` });
    loss.annotations.push(label(Math.log10(f.value), `${f.value}: ${f.label}`, c));
  });
  return { acc, loss };
}
