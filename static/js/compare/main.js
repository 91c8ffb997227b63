// Entry of the compare page (templates/compare.html): the set-up forms, one comparison, or one sweep.

import { ruleColours, setProjector } from "../plots/common.js";
import { ComparisonView } from "./comparison.js";
import { showSetup } from "./setup.js";
import { SweepView } from "./sweep.js";

async function main() {
  const data = JSON.parse(document.getElementById("page-data").textContent);
  const root = document.getElementById("compare");
  const ctx = { catalog: data.catalog, colours: ruleColours(data.catalog.rules) };
  try { setProjector(localStorage.getItem("creditlab.projector") === "1"); } catch { /* private mode */ }
  const { kind, id } = root.dataset;
  root.dataset.view = id ? kind : "setup";
  if (!id) return showSetup(root, ctx);
  const view = kind === "sweep" ? new SweepView(root, id, ctx) : new ComparisonView(root, id, ctx);
  try {
    await view.start();
  } catch (err) {
    root.querySelector("#cmp-status").textContent = `Could not open this ${kind}: ${err.message || err}`;
    root.querySelector("#cmp-status").dataset.kind = "bad";
  }
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", main);
else main();
