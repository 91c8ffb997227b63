// The audience's page: follows what the presenter shows (a run's watch link, live) and votes in open polls.
// It trains nothing and changes nothing of the room: every control is the presenter's.

import { $, CODE, answerText, api, detailText, drawResults, el, follow, optionLabels, pollMeta, setStatus } from "./common.js";
import { followRun } from "./relay.js";
import { authHeaders, saveOwnerToken } from "../owner.js";

const base = `/api/rooms/${CODE}`;
let mine = {};
const cards = new Map();

async function start() {
  const r = await api("GET", base);
  if (r.status === 403) return askPassword();
  if (!r.ok) return setStatus(detailText(r.body.detail));
  mine = r.body.my_votes || {};
  follow(render, (code) => (code === 4403 ? askPassword() : setStatus("There is no such room.")));
}

function askPassword() {
  setStatus("This room has a password. Ask the presenter for it.");
  $("join-form").hidden = false;
  $("join-password").focus();
}

$("join-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const r = await api("POST", `${base}/join`, { password: $("join-password").value });
  if (!r.ok) { $("join-error").textContent = detailText(r.body.detail); return; }
  $("join-form").hidden = true;
  start();
});

let following = null; // {key, stop}: the relay this page follows (a shown run, or guess the rule)

/** A shown run comes through the room's relay (quantised, thinned: docs/rooms.md); a guess too, and then the
 *  relay names nothing of the rule until the reveal. */
function showRelayed(shown) {
  const guess = shown.kind === "guess";
  const key = `${shown.kind}:${shown.id || shown.poll}:${shown.hidden}`;
  $("relay").hidden = false;
  const full = $("relay-full");
  full.hidden = guess && shown.hidden;
  if (shown.id) full.setAttribute("href", `/#run=${encodeURIComponent(shown.id)}`);
  if (guess) {
    $("relay-rule").textContent = shown.hidden ? "Which rule is training this network? Watch, then vote below."
      : `The rule was ${shown.rule}.`;
  }
  if (following && following.key === key) return;
  if (following) following.stop();
  following = { key, stop: followRun($("relay"), (run) => {
    if (!guess) $("relay-rule").textContent = `Live: ${run.spec.rule} training ${run.spec.arch} on ${run.spec.task}`;
  }) };
}

function showRun(shown) {
  const frame = $("shown-frame");
  $("shown-empty").hidden = Boolean(shown);
  if (shown && (shown.kind === "guess" || shown.kind === "run")) {
    frame.hidden = true;
    frame.removeAttribute("src");
    showRelayed(shown);
    return;
  }
  if (following) { following.stop(); following = null; }
  $("relay").hidden = true;
  frame.hidden = !shown;
  const src = !shown ? ""
    : shown.kind === "comparison" ? `/compare/${encodeURIComponent(shown.id)}`
        : shown.kind === "lesson" ? `/lessons/${encodeURIComponent(shown.name)}` : "";
  if (src && frame.getAttribute("src") !== src) frame.setAttribute("src", src);
  if (!src) frame.removeAttribute("src");
}

async function vote(poll, value, note) {
  const r = await api("POST", `${base}/polls/${poll.id}/votes`, { value });
  if (r.ok) { mine[poll.id] = r.body.value; note.textContent = `Your answer: ${label(poll, r.body.value)}${r.body.replaced ? " (changed)" : ""}`; }
  else note.textContent = `Not counted: ${detailText(r.body.detail)}`;
}

function label(poll, value) {
  return poll.kind === "slider" ? String(Math.round(value * 10) / 10) : optionLabels(poll)[value];
}

function voteControls(poll, note) {
  const box = el("div", null, { class: "vote" });
  if (poll.kind === "slider") {
    const input = el("input", null, { type: "range", min: String(poll.low), max: String(poll.high), step: "any",
      value: String(mine[poll.id] ?? (poll.low + poll.high) / 2), "aria-label": "Your answer" });
    const out = el("output", input.value);
    input.addEventListener("input", () => { out.textContent = String(Math.round(Number(input.value))); });
    const send = el("button", "Vote", { type: "button", class: "btn btn-primary" });
    send.addEventListener("click", () => vote(poll, Number(input.value), note));
    box.append(input, out, send);
  } else {
    optionLabels(poll).forEach((o, i) => {
      const b = el("button", o, { type: "button", class: "btn choice", "data-option": String(i) });
      b.addEventListener("click", () => vote(poll, i, note));
      box.append(b);
    });
  }
  return box;
}

function card(poll) {
  let c = cards.get(poll.id);
  if (c) return c;
  const li = el("li", null, { class: "poll", "data-poll": poll.id });
  const note = el("p", mine[poll.id] !== undefined ? `Your answer: ${label(poll, mine[poll.id])}` : "", { class: "mine" });
  c = { li, meta: el("p", "", { class: "meta" }), answer: el("p", "", { class: "answer" }),
    controls: voteControls(poll, note), note, plot: el("div", null, { class: "plot" }) };
  li.append(el("h3", poll.question), c.meta, c.controls, note, c.answer, c.plot);
  $("polls").append(li);
  cards.set(poll.id, c);
  return c;
}

// The sandbox: this browser's own small copy of the presenter's preset, owned by this browser's token.
let copyTimer = null;
async function followCopy(runId) {
  clearTimeout(copyTimer);
  const r = await fetch(`/api/runs/${encodeURIComponent(runId)}`, { headers: authHeaders() });
  if (!r.ok) return;
  const run = await r.json();
  const note = $("sandbox-mine");
  note.textContent = run.status === "queued"
    ? `Your copy waits for a free worker: place ${run.queue_position || "—"} in the queue.`
    : `Your copy is ${run.status} (update ${run.step}). `;
  if (run.status !== "queued") note.append(el("a", "Watch it", { href: `/#run=${encodeURIComponent(runId)}`, target: "_blank" }));
  if (["queued", "paused", "running"].includes(run.status)) copyTimer = setTimeout(() => followCopy(runId), 2000);
}

$("sandbox-start").addEventListener("click", async () => {
  const r = await fetch(`${base}/sandbox/runs`, { method: "POST", credentials: "same-origin", headers: authHeaders() });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) { $("sandbox-mine").textContent = `Not started: ${detailText(body.detail)}`; return; }
  saveOwnerToken(body.owner_token);
  followCopy(body.run);
});

function render(room) {
  showRun(room.shown);
  $("sandbox").hidden = !room.sandbox;
  if (room.sandbox) $("sandbox-what").textContent = `${room.sandbox.task} · ${room.sandbox.arch}${room.sandbox.units ? ` (${room.sandbox.units} units)` : ""} · ${room.sandbox.rule}`;
  const visible = room.polls.filter((p) => p.state !== "draft");
  $("polls-empty").hidden = visible.length > 0;
  for (const poll of visible) {
    const c = card(poll);
    c.meta.textContent = pollMeta(poll);
    c.controls.hidden = poll.state !== "open";
    c.answer.textContent = answerText(poll);
    c.plot.hidden = !poll.results;
    if (poll.results) drawResults(c.plot, poll);
  }
}

start();
