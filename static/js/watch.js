// Watch mode: a run opened from a link, by a browser that does not own it. Everything stays live; Play, Step and
// Reset give way to a "Watching" badge and a button that starts this browser's own copy of the setup.
//
// The page decides from what it knows: no owner token at all means watching; with a token, the server's answer to
// the websocket's auth message ({"type": "auth", "owner": false}) says the run belongs to someone else.

import { $, app } from "./store.js";
import { ownerToken } from "./owner.js";

/** runId → whether the server confirmed (true) or denied (false) that this browser owns it. */
const verdicts = new Map();

export function setOwner(runId, owner) {
  verdicts.set(runId, Boolean(owner));
}

const CREATED_KEY = "creditlab.created";

function created() {
  try {
    return JSON.parse(localStorage.getItem(CREATED_KEY) || "[]");
  } catch {
    return [];
  }
}

/** Created here: this browser owns it even before any server answer (remembered across reloads, last 50). */
export function markOwned(runId) {
  verdicts.set(runId, true);
  try {
    localStorage.setItem(CREATED_KEY, JSON.stringify([...created().filter((id) => id !== runId), runId].slice(-50)));
  } catch {
    /* private mode: known for this page only */
  }
}

export function isWatching() {
  if (!app.runId) return false;
  if (verdicts.has(app.runId)) return !verdicts.get(app.runId);
  if (created().includes(app.runId)) return false; // the server's verdict, when it comes, still decides
  return !ownerToken();
}

/** Show the badge and the copy button instead of the controls (called from render()). */
export function renderWatch() {
  const watching = isWatching();
  document.documentElement.classList.toggle("watching", watching);
  $("watching").hidden = !watching;
  for (const id of ["btn-play", "btn-step", "btn-reset"]) $(id).hidden = watching;
  $("speed").disabled = watching;
  $("live-lr").disabled = watching;
  return watching;
}
