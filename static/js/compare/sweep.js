// One sweep: final accuracy against the swept setting, one line per rule (mean over seeds, whiskers min–max),
// each point drawn as soon as the server says it has finished (server-sent events from /api/sweeps/{id}/events).

import { taskGuides } from "../plots/guides.js";
import { compareApi } from "./api.js";
import { OverlayChart } from "./overlay.js";

export class SweepView {
  constructor(root, id, ctx) {
    this.root = root;
    this.id = id;
    this.ctx = ctx;
    this.points = [];
    this.state = (window.__compare = { kind: "sweep", ready: false, status: "loading", drawn: [], drawnAt: [], ended: false });
  }

  async start() {
    const d = await compareApi.getSweep(this.id);
    this.spec = d.spec;
    this.total = d.total;
    const task = this.ctx.catalog.tasks.find((t) => t.name === (d.spec.base.task || "dnms"));
    const numeric = d.spec.values.every((v) => typeof v === "number");
    this.chart = new OverlayChart(this.root.querySelector("#sweep-plot"), {
      xTitle: d.spec.setting, yTitle: "final accuracy (%, mean over seeds)", yRange: [0, 102], mode: "lines+markers",
      guides: taskGuides(task).acc, xAxis: numeric ? {} : { type: "category" },
    });
    this.chart.setLines(d.spec.rules.map((r) => ({ name: r, colour: this.ctx.colours[r] || "#000000" })));
    this.root.querySelector("#cmp-title").textContent =
      `Sweep of ${d.spec.setting} on ${task ? task.name : "?"}: ${d.spec.rules.join(", ")}`;
    this.root.querySelector("#cmp-stop").onclick = async () => {
      try { await compareApi.stopSweep(this.id); } catch (err) { this.say(String(err.message || err)); }
    };
    this.root.querySelector("#cmp-play").style.display = "none"; // a sweep has no play: it runs once made
    this.state.ready = true;
    const events = new EventSource(`/api/sweeps/${this.id}/events`);
    events.addEventListener("point", (ev) => this.add(JSON.parse(ev.data)));
    events.addEventListener("end", (ev) => {
      events.close();
      const end = JSON.parse(ev.data);
      this.state.ended = true;
      this.state.endedAt = Math.round(performance.now());
      this.state.status = end.status;
      this.say(`${end.status === "done" ? "Finished" : end.status}: ${this.points.length} of ${this.total} points` +
        (end.message ? ` — ${end.message}` : ""));
      this.root.querySelector("#cmp-stop").disabled = true;
    });
    this.state.status = d.status;
    this.say(`Running: 0 of ${this.total} points (each the mean of ${d.spec.seeds.length} seed(s))`);
  }

  add(point) {
    if (this.points.some((p) => p.rule === point.rule && p.value === point.value)) return; // replayed on reconnect
    this.points.push(point);
    const values = this.spec.values;
    this.spec.rules.forEach((rule, i) => {
      const mine = values.map((v) => this.points.find((p) => p.rule === rule && p.value === v));
      const got = mine.map((p, j) => [values[j], p]).filter(([, p]) => p && p.accuracy.mean !== null);
      const y = got.map(([, p]) => 100 * p.accuracy.mean);
      this.chart.replace(i, got.map(([v]) => v), y);
      this.chart.lines[i].error = { plus: got.map(([, p], k) => 100 * p.accuracy.max - y[k]),
        minus: got.map(([, p], k) => y[k] - 100 * p.accuracy.min) };
    });
    this.chart.draw();
    this.state.drawn.push(this.points.length);
    this.state.drawnAt.push(Math.round(performance.now()));
    if (!this.state.ended) this.say(`Running: ${this.points.length} of ${this.total} points`);
  }

  say(text) {
    this.root.querySelector("#cmp-status").textContent = text;
  }
}
