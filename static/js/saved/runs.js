// The saved-runs list: this browser's runs (its owner token) and the runs others made public, with links to
// open, replay and export each, and for your own runs a public switch and delete (after a confirmation).

import { authHeaders, ownerToken } from "../owner.js";

const body = document.querySelector("#runs-table tbody");
const status = document.getElementById("saved-status");

function link(href, text) {
  const a = document.createElement("a");
  a.href = href;
  a.textContent = text;
  return a;
}

function cell(...children) {
  const td = document.createElement("td");
  td.append(...children);
  return td;
}

async function setPublic(run, on, box) {
  const res = await fetch(`/api/runs/${encodeURIComponent(run.id)}`, {
    method: "PATCH", headers: { "Content-Type": "application/json", ...authHeaders() }, body: JSON.stringify({ public: on }),
  });
  if (!res.ok) {
    box.checked = !on;
    status.textContent = `Could not change run ${run.id}: ${res.status}`;
  }
}

async function remove(run, row) {
  const what = `${run.spec.rule} on ${run.spec.task}, run ${run.id}`;
  if (!window.confirm(`Delete ${what}? Its history, keyframes and weights are removed for good.`)) return;
  const res = await fetch(`/api/runs/${encodeURIComponent(run.id)}`, { method: "DELETE", headers: authHeaders() });
  if (res.status === 204) {
    row.remove();
    status.textContent = `Deleted ${what}.`;
  } else {
    status.textContent = `Could not delete run ${run.id}: ${res.status}`;
  }
}

function row(run, mine) {
  const tr = document.createElement("tr");
  tr.dataset.run = run.id;
  const s = run.spec;
  const acc = run.final?.accuracy;
  const open = cell(link(`/#run=${encodeURIComponent(run.id)}`, mine ? "Open" : "Watch"),
    link(`/replay/${encodeURIComponent(run.id)}`, "Replay"),
    link(`/api/runs/${encodeURIComponent(run.id)}/export/report.html`, "Report"),
    link(`/api/runs/${encodeURIComponent(run.id)}/export/metrics.csv`, "CSV"));
  let own = cell(mine ? "" : "public");
  if (mine) {
    const label = document.createElement("label");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.checked = Boolean(run.public);
    box.addEventListener("change", () => setPublic(run, box.checked, box));
    label.append(box, " public");
    const del = document.createElement("button");
    del.type = "button";
    del.className = "btn btn-quiet";
    del.textContent = "Delete";
    del.setAttribute("aria-label", `Delete run ${run.id}`);
    del.addEventListener("click", () => remove(run, tr));
    own = cell(label, " ", del);
  }
  tr.append(cell(run.id), cell(`${s.task} · ${s.arch} · ${s.rule}`), cell(run.status), cell(String(run.step)),
    cell(acc == null ? "—" : `${Math.round(acc * 100)} %`), open, own);
  return tr;
}

async function start() {
  const res = await fetch("/api/runs?public=true", { headers: authHeaders() });
  if (!res.ok) {
    status.textContent = `Could not list the runs (${res.status}).`;
    return;
  }
  const runs = await res.json();
  const mine = new Set((ownerToken() ? await (await fetch("/api/runs", { headers: authHeaders() })).json() : []).map((r) => r.id));
  body.replaceChildren(...runs.slice().reverse().map((r) => row(r, mine.has(r.id))));
  status.textContent = runs.length ? `${mine.size} of yours, ${runs.length - mine.size} shared by others.` :
    "No runs yet: start one in the lab, or ask for a public one.";
}

start();
