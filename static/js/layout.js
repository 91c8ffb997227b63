// What is shown: the set-up panels open or folded, and the presenter layout (projector mode) on or off. The state
// lives in the store (app.view); this module applies it to the page and remembers the person's own choices.
//
// Presenter mode is for a room: larger text, thicker curves, and the four charts a lesson talks about (loss,
// accuracy, recurrent alignment, activity) on one screen under a one-line set-up summary whose pickers work in
// place. The set-up panels fold away while it is on and come back as they were when it ends; folding them is the
// page's own doing, so it is never remembered as the person's choice.

import { $, app } from "./store.js";
import { setProjector } from "./plots/common.js";

const SETUP_KEY = "creditlab.setupOpen";
const PROJECTOR_KEY = "creditlab.projector";

function remembered(key, fallback) {
  try {
    const v = localStorage.getItem(key);
    return v === null ? fallback : v === "1";
  } catch {
    return fallback;
  }
}

function remember(key, on) {
  try {
    localStorage.setItem(key, on ? "1" : "0");
  } catch {
    /* private mode: the choice holds for this page only */
  }
}

/** Charts size themselves on a window resize (Plotly's responsive mode); a layout change is one too. */
function chartsResize() {
  requestAnimationFrame(() => window.dispatchEvent(new Event("resize")));
}

function showSetup() {
  const open = app.view.presenter ? app.view.setupInPresenter : app.view.setupOpen;
  $("pipeline").hidden = !open;
  document.documentElement.classList.toggle("setup-folded", !open); // the one-line set-up stands in for it
  $("btn-setup").setAttribute("aria-expanded", String(open));
  $("btn-setup").querySelector(".label").textContent = open ? "Hide set-up" : "Show set-up";
}

/** Show or hide the set-up panels: a person's choice, remembered outside presenter mode. */
export function setSetupOpen(open) {
  if (app.view.presenter) app.view.setupInPresenter = open;
  else {
    app.view.setupOpen = open;
    remember(SETUP_KEY, open);
  }
  showSetup();
  chartsResize();
}

export function toggleSetup() {
  setSetupOpen($("pipeline").hidden);
}

/** Presenter layout on or off (remembered); the set-up comes back as the person left it when it ends. */
export function setPresenter(on) {
  app.view.presenter = on;
  app.view.setupInPresenter = false;
  document.documentElement.classList.toggle("projector", on);
  $("btn-projector").setAttribute("aria-pressed", String(on));
  remember(PROJECTOR_KEY, on);
  setProjector(on);
  showSetup();
  chartsResize();
}

export function togglePresenter() {
  setPresenter(!app.view.presenter);
}

/**
 * The presenter layout sizes the four key charts to the screen left under the header and the one-line set-up
 * (--chrome, in px, for app.css); both can wrap or change, so it is measured whenever they resize.
 */
function measureChrome() {
  const bar = document.querySelector(".setup-bar");
  const below = bar.offsetTop + bar.offsetHeight + parseFloat(getComputedStyle(bar).marginBottom || "0");
  document.documentElement.style.setProperty("--chrome", `${Math.ceil(below)}px`);
}

/** The view as it was last time: set-up open unless folded by the person, presenter mode if it was on. */
export function restoreView() {
  const watch = new ResizeObserver(measureChrome);
  watch.observe(document.querySelector(".masthead"));
  watch.observe(document.querySelector(".setup-bar"));
  app.view.setupOpen = remembered(SETUP_KEY, true);
  setPresenter(remembered(PROJECTOR_KEY, false));
}
