// One comparison: its members' loss, accuracy and recurrent alignment overlaid on shared axes (one colour per rule),
// small multiples of each member's W_rec change and activity, and the table that names a winner.
//
// Each member is a run: the page watches it over its own websocket (/ws/runs/{id}) like the lab does, draws the
// curves at most ~5 times a second, and re-reads the comparison (its table) when a member's status changes.

import { decodeFrame } from "../socket.js";
import { ownerToken } from "../owner.js";
import { taskGuides } from "../plots/guides.js";
import { WeightHeatmap } from "../plots/heatmap.js";
import { Raster } from "../plots/raster.js";
import { compareApi } from "./api.js";
import { DASHES, OverlayChart } from "./overlay.js";
import { renderTable } from "./table.js";

const DRAW_MS = 200;
const TABLE_MS = 1000;

/** Line style per member: its rule's colour, and a dash for the second, third … member with the same rule. */
function memberLines(members, colours) {
  const seen = {};
  return members.map((m) => {
    const rule = m.run.spec.rule;
    const n = (seen[rule] = (seen[rule] || 0) + 1) - 1;
    return { name: m.label, colour: colours[rule] || "#000000", dash: DASHES[n % DASHES.length] };
  });
}

function columns(records) {
  const x = [], loss = [], acc = [], align = [];
  for (const r of records) {
    x.push(r.step);
    loss.push(r.loss);
    acc.push(r.accuracy === null ? null : 100 * r.accuracy);
    align.push(r.alignment ? r.alignment.recurrent : undefined);
  }
  const ax = [], ay = [];
  align.forEach((v, i) => { if (v !== undefined) { ax.push(x[i]); ay.push(v); } });
  return { x, loss, acc, ax, ay };
}

export class ComparisonView {
  constructor(root, id, ctx) {
    this.root = root;
    this.id = id;
    this.ctx = ctx;
    this.sockets = [];
    this.state = (window.__compare = { kind: "compare", ready: false, status: "loading", winner: null, runs: {} });
  }

  async start() {
    const d = await compareApi.get(this.id);
    this.detail = d;
    const task = this.ctx.catalog.tasks.find((t) => t.name === d.members[0].run.spec.task);
    const guides = taskGuides(task);
    const q = (sel) => this.root.querySelector(sel);
    this.charts = {
      loss: new OverlayChart(q("#cmp-loss"), { xTitle: "update", yTitle: "loss (log scale)", yType: "log",
        guides: guides.loss }),
      acc: new OverlayChart(q("#cmp-acc"), { xTitle: "update", yTitle: "accuracy (%)", yRange: [0, 102],
        guides: guides.acc }),
      align: new OverlayChart(q("#cmp-align"), { xTitle: "update", yTitle: "cosine with BPTT (network weights)",
        yRange: [-1.05, 1.05], mode: "lines+markers" }),
    };
    const lines = memberLines(d.members, this.ctx.colours);
    for (const c of Object.values(this.charts)) c.setLines(lines);
    this.multiples(d.members, lines);
    q("#cmp-title").textContent = `${d.members.map((m) => m.label).join(" vs ")} on ${task ? task.name : "?"}`;
    this.wireControls();
    this.show(d);
    d.members.forEach((m, i) => this.watch(m.run.id, i));
    this.timer = setInterval(() => this.draw(), DRAW_MS);
    this.state.ready = true;
  }

  /** A W_rec change and an activity canvas per member, titled in its colour. */
  multiples(members, lines) {
    const box = this.root.querySelector("#cmp-multiples");
    box.innerHTML = "";
    this.heat = members.map((m, i) => {
      const col = document.createElement("div");
      col.className = "multiple";
      col.innerHTML = `<h3 style="border-color:${lines[i].colour}"></h3>
        <div class="mini" data-kind="wchange" aria-label="change of recurrent weights"></div>
        <div class="mini" data-kind="activity" aria-label="activity on the example trial"></div>`;
      col.querySelector("h3").textContent = m.label;
      box.appendChild(col);
      return {
        wchange: new WeightHeatmap(col.querySelector('[data-kind="wchange"]'),
          { xTitle: "from unit", yTitle: "to unit", label: "ΔW_rec" }),
        activity: new Raster(col.querySelector('[data-kind="activity"]'),
          { map: "viridis", xTitle: "time step", yTitle: "unit", label: "activity" }),
      };
    });
  }

  watch(runId, i) {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${proto}//${location.host}/ws/runs/${runId}`);
    ws.binaryType = "arraybuffer";
    ws.onopen = () => { const t = ownerToken(); if (t) ws.send(JSON.stringify({ type: "auth", token: t })); };
    ws.onmessage = (ev) => {
      if (typeof ev.data !== "string") {
        ws.send('{"type":"ack"}');
        this.snapshot(i, decodeFrame(ev.data));
        return;
      }
      const m = JSON.parse(ev.data);
      if (m.type === "hello") {
        const c = columns(m.history);
        this.charts.loss.replace(i, c.x, c.loss);
        this.charts.acc.replace(i, c.x, c.acc);
        this.charts.align.replace(i, c.ax, c.ay);
        this.state.runs[runId] = m.run.status;
      } else if (m.type === "metrics") {
        const c = columns(m.records);
        this.charts.loss.extend(i, c.x, c.loss);
        this.charts.acc.extend(i, c.x, c.acc);
        this.charts.align.extend(i, c.ax, c.ay);
      } else if (m.type === "auth") {
        this.owner = this.owner || m.owner; // members share the comparison's owner: one answer decides
        if (this.detail) this.show(this.detail);
      } else if (m.type === "status") {
        this.state.runs[runId] = m.status;
        this.refreshSoon();
      }
    };
    this.sockets.push(ws);
  }

  snapshot(i, frame) {
    const a = frame.arrays;
    const h = this.heat[i];
    if (a["weights.W_rec_change"]) h.wchange.draw(a["weights.W_rec_change"].data, a["weights.W_rec_change"].shape, 0.01);
    if (a["example.activity"]) h.activity.draw(a["example.activity"].data, a["example.activity"].shape,
      { periods: frame.header.meta?.periods || [] });
  }

  draw() {
    if (document.hidden) return;
    for (const c of Object.values(this.charts)) c.draw();
  }

  refreshSoon() {
    if (this.pending) return;
    this.pending = setTimeout(async () => {
      this.pending = null;
      try {
        this.show(await compareApi.get(this.id));
      } catch (err) {
        this.say(String(err.message || err), "bad");
      }
    }, TABLE_MS);
  }

  show(d) {
    this.detail = d;
    this.state.status = d.status;
    this.state.winner = d.winner ? d.winner.label : null;
    this.state.mode = d.mode;
    renderTable(this.root.querySelector("#cmp-table"), this.root.querySelector("#cmp-winner"), d, this.ctx.colours);
    const how = { lockstep: "in lock-step: update k of every member before update k+1 of any",
      free: "each member at its own full speed", in_turn: "in turn" }[d.mode];
    this.say(d.message || `${d.status === "done" ? "Finished" : d.status === "running" ? "Training" : "Paused"} — ` +
      `members train ${how}; all share the task, its trials and (same network settings) the initial weights.`,
      d.mode === "in_turn" ? "warn" : "");
    const mine = Boolean(this.owner); // the server's answer to this browser's token (a link only watches)
    const q = (s) => this.root.querySelector(s);
    q("#cmp-play").disabled = !mine || d.status === "done";
    q("#cmp-play").textContent = d.status === "running" ? "Pause" : "Play";
    q("#cmp-stop").disabled = !mine || d.status === "done";
  }

  say(text, kind) {
    const el = this.root.querySelector("#cmp-status");
    el.textContent = text;
    el.dataset.kind = kind || "";
  }

  wireControls() {
    const act = async (action) => {
      try {
        this.show(await compareApi.control(this.id, action));
      } catch (err) {
        this.say(String(err.message || err), "bad");
      }
    };
    this.root.querySelector("#cmp-play").onclick = () => act(this.detail.status === "running" ? "pause" : "play");
    this.root.querySelector("#cmp-stop").onclick = () => act("stop");
  }
}
