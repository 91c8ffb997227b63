// The presenter's page: show a run to the room, add polls, open/close/reveal/resolve them, watch live tallies.
// Every change is an HTTP call that the server authorises by the presenter cookie; a refusal is shown, never
// hidden, and the page changes only when the room socket says the room changed.

import { $, CODE, answerText, api, detailText, drawResults, el, follow, pollMeta, setStatus } from "./common.js";

const base = `/api/rooms/${CODE}`;

async function control(method, path, body) {
  const r = await api(method, base + path, body);
  $("control-error").textContent = r.ok ? "" : `Refused (${r.status}): ${detailText(r.body.detail)}`;
  return r;
}

/** What a pasted link or id names: a comparison (/compare/<id>), a lesson (/lessons/<name>) or a run. */
function shownFrom(text) {
  const t = text.trim();
  const cmp = t.match(/\/compare\/([A-Za-z0-9_-]+)/);
  if (cmp) return { kind: "comparison", id: cmp[1] };
  const lesson = t.match(/\/lessons\/([a-z0-9-]+)/);
  if (lesson) return { kind: "lesson", name: lesson[1] };
  const run = t.match(/run=([A-Za-z0-9_-]+)/);
  return { kind: "run", id: run ? run[1] : t };
}

$("show-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  control("PUT", "/shown", { shown: shownFrom($("show-run").value) });
});
$("show-nothing").addEventListener("click", () => control("PUT", "/shown", { shown: null }));

// Guess the rule: the room starts the run (owned by this presenter) with its rule hidden and opens a
// prediction whose options are the rules; the reveal settles it.
async function fillGuessForm() {
  const r = await api("GET", "/api/catalog");
  if (!r.ok) return;
  for (const t of r.body.tasks) $("guess-task").append(el("option", t.name, { value: t.name }));
  $("guess-rule").append(el("option", "choose (kept from the projector)", { value: "" }));
  for (const rule of r.body.rules.filter((x) => x.supports.includes("rnn"))) {
    $("guess-rule").append(el("option", rule.name, { value: rule.name }));
  }
}
$("guess-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const r = await control("POST", "/guess", { spec: { task: $("guess-task").value, arch: "rnn",
    arch_config: { hidden: Number($("guess-hidden").value) }, rule: $("guess-rule").value } });
  if (r.ok) $("guess-rule").value = ""; // this page may be on the projector: the form must not keep the answer
});
$("guess-reveal").addEventListener("click", () => control("POST", "/guess/reveal"));
fillGuessForm();

// The sandbox: every audience member may train a small copy of the shown run; the counts refresh every 3 s.
$("sandbox-open").addEventListener("click", () => control("PUT", "/sandbox", {}));
$("sandbox-close").addEventListener("click", () => control("DELETE", "/sandbox"));
function showSandbox(box) {
  $("sandbox-counts").textContent = !box ? "No sandbox is open."
    : `Sandbox open (${box.task} · ${box.arch} · ${box.rule}): ${box.counts.running} running, ${box.counts.queued} waiting, ${box.counts.finished} finished.`;
}
setInterval(async () => {
  const r = await api("GET", base);
  if (r.ok) showSandbox(r.body.sandbox);
}, 3000);

$("poll-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const kind = $("poll-kind").value;
  const lines = $("poll-options").value.split("\n").map((s) => s.trim()).filter(Boolean);
  const poll = { kind, question: $("poll-question").value };
  if (kind === "slider") poll.labels = lines;
  else poll.options = lines;
  const r = await control("POST", "/polls", poll);
  if (r.ok) $("poll-form").reset();
});

const cards = new Map();

function card(poll) {
  let c = cards.get(poll.id);
  if (c) return c;
  const li = el("li", null, { class: "poll", "data-poll": poll.id });
  const title = el("h3", poll.question);
  const meta = el("p", "", { class: "meta" });
  const answer = el("p", "", { class: "answer" });
  const plot = el("div", null, { class: "plot" });
  const actions = el("div", null, { class: "actions" });
  for (const [action, label] of [["open", "Open"], ["close", "Close"], ["reveal", "Show results"], ["hide", "Hide results"]]) {
    const b = el("button", label, { type: "button", class: "btn", "data-action": action });
    b.addEventListener("click", () => control("POST", `/polls/${poll.id}/actions/${action}`));
    actions.append(b);
  }
  if (poll.kind === "prediction") {
    const select = el("select", null, { "aria-label": "The right answer" });
    poll.options.forEach((o, i) => select.append(el("option", o, { value: String(i) })));
    const resolve = el("button", "Resolve with this answer", { type: "button", class: "btn" });
    resolve.addEventListener("click", () => control("POST", `/polls/${poll.id}/resolve`, { option: Number(select.value) }));
    const runs = el("input", null, { placeholder: "or run ids, one per option, comma-separated", "aria-label": "Runs that settle it" });
    const byRuns = el("button", "Resolve by the runs", { type: "button", class: "btn" });
    byRuns.addEventListener("click", () => control("POST", `/polls/${poll.id}/resolve`,
      { runs: runs.value.split(",").map((s) => s.trim()).filter(Boolean), target: 0.9 }));
    actions.append(select, resolve, runs, byRuns);
  }
  const csv = el("a", "Votes as CSV", { href: `${base}/polls/${poll.id}/votes.csv`, class: "btn btn-quiet" });
  actions.append(csv);
  li.append(title, meta, answer, plot, actions);
  $("polls").append(li);
  c = { li, meta, answer, plot };
  cards.set(poll.id, c);
  return c;
}

function render(room) {
  showSandbox(room.sandbox);
  const s = room.shown;
  const what = s && (s.kind === "lesson" ? `lesson ${s.name}`
    : s.kind === "guess" ? `run ${s.id} with its rule ${s.hidden ? "hidden from the room" : `(${s.rule}) revealed`}`
      : `${s.kind} ${s.id}`);
  $("shown-now").textContent = room.shown ? `Showing ${what} to everyone.` : "Nothing is shown.";
  // this page may be on the projector: a hidden rule is shown to the presenter only on request
  $("guess-answer").hidden = !(s && s.kind === "guess" && s.hidden);
  $("guess-answer-rule").textContent = s && s.kind === "guess" ? s.rule : "";
  for (const poll of room.polls) {
    const c = card(poll);
    c.meta.textContent = pollMeta(poll);
    c.answer.textContent = answerText(poll);
    c.li.dataset.state = poll.state;
    drawResults(c.plot, poll);
  }
}

follow(render, (code) => setStatus(code === 4404 ? "There is no such room." : "This room has a password."));
