// All live charts of one run and the render loop that draws them.
//
// Data arrives whenever the server sends it; drawing happens only in requestAnimationFrame, from the newest data:
// curves at most ~10 times a second (batched extendTraces), snapshots (heatmaps, activity, outputs) at most ~5 times
// a second. A snapshot that was superseded before it could be drawn is dropped. Snapshots are acknowledged only
// after a draw (covering the dropped ones too), so a hidden tab, where rAF does not run, stops the snapshot stream.

import { LineChart } from "./plots/lines.js";
import { WeightHeatmap } from "./plots/heatmap.js";
import { Raster } from "./plots/raster.js";
import { OutputChart } from "./plots/trial.js";
import { CostMeter } from "./plots/cost.js";
import { AlignmentChart } from "./plots/alignment.js";
import { StickyLimit, maxAbs, niceCeil } from "./plots/common.js";
import { taskGuides } from "./plots/guides.js";
import { nameAbout } from "./about.js";
import { lateMean, lateWindow } from "./summary.js";

const CURVE_INTERVAL_MS = 100;
const SNAPSHOT_INTERVAL_MS = 200;
const MAX_HISTORY_POINTS = 5000;

const SIGNAL_TEXT = {
  learning_signal: {
    title: "What each unit is told about the error",
    y: "shown synapse",
    about:
      "The learning signal: at every step of the example trial, how much the unit that owns each of a few sample " +
      "synapses (one row each) is told to change its activity to reduce the error. The rule computes it online " +
      "from the current error alone. Red: increase, blue: decrease. The colour limits follow the signal (they " +
      "shrink slowly as it fades when the network has learned), so its pattern stays visible.",
  },
  eligibility_trace: {
    title: "What each synapse remembers (eligibility traces)",
    y: "shown synapse",
    about:
      "Eligibility traces of a few sample synapses (one row each): a short local memory of how the synapse's input " +
      "and its unit's state interacted recently. Multiplied by the learning signal, it gives the weight change. " +
      "Time runs left to right in steps.",
  },
  influence_norm: {
    title: "How much each unit's state depends on the weights",
    y: "state variable",
    about:
      "RTRL carries, for every unit, how its state depends on every recurrent weight (the influence matrix). Each " +
      "row shows the size of that dependence (never negative: dark is small, yellow large) for one state variable " +
      "over the example trial. Keeping this matrix is what makes RTRL exact and expensive.",
  },
  feedback_alignment: {
    title: "Do the feedback weights agree with the readout?",
    y: "cosine",
    about:
      "The cosine between the fixed or learned feedback weights that carry the error back to the units and the " +
      "transposed readout weights that exact credit would use, after each update. 1: they point the same way.",
  },
};

function humanise(name) {
  const s = name.replace(/_/g, " ");
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Signals that are never negative get a sequential map; signed ones a diverging map with limits from the data. */
const NON_NEGATIVE = new Set(["influence_norm"]);

function finiteOrNull(v) {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

export class Dashboard {
  constructor(counters, onStats) {
    this.c = counters;
    this.onStats = onStats;
    this.loss = new LineChart(document.getElementById("plot-loss"), {
      xTitle: "update", yTitle: "loss (log scale)", yType: "log", name: "loss", hoverFormat: ".3g", smooth: true,
    });
    this.acc = new LineChart(document.getElementById("plot-acc"), {
      xTitle: "update", yTitle: "trials right (%)", yRange: [-2, 102], name: "right (%)", hoverFormat: ".0f", smooth: true,
    });
    this.align = new AlignmentChart(document.getElementById("plot-align"), document.getElementById("align-none"));
    this.values = { loss: [], acc: [] };
    this.wrec = new WeightHeatmap(document.getElementById("plot-wrec"), {
      xTitle: "from unit", yTitle: "to unit", label: "Recurrent weight matrix",
      hover: (r, c, v) => `to ${r} from ${c}: ${v}`,
    });
    this.wchange = new WeightHeatmap(document.getElementById("plot-wchange"), {
      xTitle: "from unit", yTitle: "to unit", label: "Change of the recurrent weights since the start",
      hover: (r, c, v) => `to ${r} from ${c}: ${v}`,
    });
    this.output = new OutputChart(document.getElementById("plot-output"));
    this.activity = new Raster(document.getElementById("raster-activity"), {
      map: "viridis", xTitle: "trial time (steps)", yTitle: "unit", label: "Activity of each unit over the example trial",
      hover: (r, c, v) => `unit ${r}, step ${c}: ${v}`,
    });
    this.cost = new CostMeter();
    this.signals = new Map();
    this.signalsBox = document.getElementById("signals");
    this.changeLimit = new StickyLimit(1.2);
    this.pendingFrame = null;
    this.owedAcks = 0;
    this.lastCurve = 0;
    this.lastSnap = 0;
    this.lastStep = 0;
    this.ackFn = null;
    this.latest = { step: 0, loss: null, accuracy: null };
    this.loop = this.loop.bind(this);
    requestAnimationFrame(this.loop);
  }

  /** Start over for a run (or none): empty curves in the rule's colour, fresh colour limits. */
  reset(colour, ruleName, history = []) {
    this.colour = colour;
    this.pendingFrame = null;
    this.wrec.reset();
    this.wchange.reset();
    this.changeLimit.reset();
    this.activity.reset();
    for (const [name, s] of this.signals) {
      if (s.scalar) {
        s.fig.remove();
        this.signals.delete(name);
      } else s.raster.reset();
    }
    this.output.reset(colour);
    this.cost.reset(colour, ruleName);
    let recs = history.filter((r) => r && typeof r.step === "number");
    if (recs.length > MAX_HISTORY_POINTS) {
      // Thin a long history evenly but keep the newest record.
      const stride = Math.ceil(recs.length / MAX_HISTORY_POINTS);
      recs = recs.filter((_, i) => i % stride === 0 || i === recs.length - 1);
    }
    const x = recs.map((r) => r.step);
    this.loss.reset(colour, x, recs.map((r) => finiteOrNull(r.loss)));
    this.acc.reset(colour, x, recs.map((r) => (finiteOrNull(r.accuracy) === null ? null : 100 * r.accuracy)));
    this.align.reset(colour, recs);
    this.lastStep = recs.length ? recs[recs.length - 1].step : 0;
    const all = history.filter((r) => r && typeof r.step === "number");
    this.values = { loss: all.map((r) => finiteOrNull(r.loss)), acc: all.map((r) => finiteOrNull(r.accuracy)) };
    const last = all.length ? all[all.length - 1] : null;
    this.latest = { step: last ? last.step : 0, ...this.summary() };
    this.c.lossPoints = this.loss.points;
    this.markData();
    this.onStats(this.latest);
  }


  /** Metrics records from the server: queued for the next curve draw. Old or repeated steps are ignored. */
  addRecords(records) {
    for (const r of records) {
      if (!r || typeof r.step !== "number" || r.step <= this.lastStep) continue;
      this.lastStep = r.step;
      this.loss.push(r.step, finiteOrNull(r.loss));
      const acc = finiteOrNull(r.accuracy);
      this.acc.push(r.step, acc === null ? null : 100 * acc);
      this.align.push(r.step, r.alignment);
      this.values.loss.push(finiteOrNull(r.loss));
      this.values.acc.push(acc);
      this.latest = { step: r.step, loss: r.loss, accuracy: r.accuracy, late: true };
      this.c.metricsReceived += 1;
    }
  }

  /** What the big numbers show: the mean of the last 10 % of updates (at least 10), summary.js Eq. (1). */
  summary() {
    const n = this.values.loss.length;
    return { loss: lateMean(this.values.loss), accuracy: lateMean(this.values.acc), window: lateWindow(n) };
  }

  /** The task's reference lines: chance on the accuracy chart, floors on the loss chart, and what "right" means. */
  setTask(entry) {
    const g = taskGuides(entry);
    this.acc.setGuides(g.acc.shapes, g.acc.annotations);
    this.loss.setGuides(g.loss.shapes, g.loss.annotations);
    document.getElementById("acc-note").textContent = entry?.accuracy_note || "";
    document.getElementById("acc-note-about").textContent =
      entry && entry.chance === null ? "This task has no chance level: see the note under the chart." : "";
  }

  /** A decoded snapshot frame; kept as the newest, replacing (dropping) an undrawn older one. */
  addSnapshot(frame, ack) {
    this.ackFn = ack;
    this.owedAcks += 1;
    if (this.pendingFrame) this.c.snapshotsDropped += 1;
    this.pendingFrame = frame;
    this.c.snapshotsReceived += 1;
  }

  loop(now) {
    requestAnimationFrame(this.loop);
    let drew = false;
    if (now - this.lastCurve >= CURVE_INTERVAL_MS && (this.loss.hasPending() || this.acc.hasPending() || this.align.hasPending())) {
      try {
        this.loss.flush();
        this.acc.flush();
        this.align.flush();
      } catch (err) {
        console.warn("curve draw failed", err);
      }
      this.c.lossPoints = this.loss.points;
      this.c.curveFrames += 1;
      this.lastCurve = now;
      this.onStats({ ...this.latest, ...this.summary() });
      this.markData();
      drew = true;
    }
    // One Plotly-heavy job per frame: curves and snapshots take turns, so no frame blocks input for long.
    if (!drew && this.pendingFrame && now - this.lastSnap >= SNAPSHOT_INTERVAL_MS) {
      const frame = this.pendingFrame;
      this.pendingFrame = null;
      try {
        this.drawSnapshot(frame);
      } catch (err) {
        console.warn("snapshot draw failed", err);
      }
      this.lastSnap = now;
      const owed = this.owedAcks;
      this.owedAcks = 0;
      for (let i = 0; i < owed; i++) this.ackFn && this.ackFn();
      this.c.snapshotsDrawn += 1;
      drew = true;
    }
    if (drew) {
      this.c.framesRendered += 1;
      const ms = performance.now() - now;
      this.c.drawMsLast = Math.round(ms);
      this.c.drawMsMax = Math.max(this.c.drawMsMax || 0, Math.round(ms));
    }
  }

  drawSnapshot({ header, arrays }) {
    const t0 = performance.now();
    const parts = {};
    const lap = (name) => {
      parts[name] = Math.round(performance.now() - (lap.t || t0));
      lap.t = performance.now();
    };
    this.lap = lap;
    this.c.drawParts = parts;
    const meta = header.meta || {};
    const ex = (n) => arrays[`example.${n}`];
    const mask = ex("mask") ? ex("mask").data : null;
    const w = arrays["weights.W_rec"];
    if (w) {
      this.wrec.draw(w.data, w.shape, 1);
      this.c.heatmapFrames += 1;
      const ch = arrays["weights.W_rec_change"];
      if (ch) {
        // The change map starts from a twentieth of the weight scale, so early small changes are visible without
        // the colours rescaling at every frame.
        if (this.changeLimit.value === null) this.changeLimit.reset(niceCeil((this.wrec.limit.value || 1) / 20));
        const lim = this.changeLimit.update(maxAbs(ch.data), 0.1);
        this.wchange.limit.reset(lim);
        lap("wrec");
        this.wchange.draw(ch.data, ch.shape, lim);
        lap("wchange");
      }
    }
    if (ex("outputs")) this.output.draw(ex("outputs"), ex("targets"), mask, meta);
    lap("output");
    if (ex("activity")) this.activity.draw(ex("activity").data, ex("activity").shape, { periods: meta.periods, mask });
    lap("activity");
    if (meta.cost) this.cost.update(meta.cost);
    this.drawSignals(arrays, meta, mask, header.step);
    lap("signals");
    this.c.snapshotStep = header.step;
    this.markData(true);
  }

  drawSignals(arrays, meta, mask, step) {
    const names = Object.keys(arrays).filter((n) => n.startsWith("signals.")).map((n) => n.slice(8));
    const T = arrays["example.mask"]?.shape?.[0];
    if (names.length) this.signalsBox.hidden = false; // before any chart is made, so Plotly sees its real size
    for (const [name, s] of this.signals) {
      if (!names.includes(name)) {
        s.fig.remove();
        this.signals.delete(name);
      }
    }
    for (const name of names) {
      const a = arrays[`signals.${name}`];
      // One value per snapshot (first dimension 1, not the trial length): a curve over updates, not an image.
      const scalar = a.shape[0] === 1 && T !== 1;
      let s = this.signals.get(name);
      if (s && s.scalar !== scalar) {
        s.fig.remove();
        this.signals.delete(name);
        s = null;
      }
      if (!s) s = this.addSignalFigure(name, scalar);
      if (scalar) {
        const v = a.data[0];
        if (typeof step === "number" && step > (s.lastStep ?? -1)) {
          s.chart.push(step, Number.isFinite(v) ? v : null);
          s.chart.flush();
          s.lastStep = step;
        }
      } else {
        s.raster.draw(a.data, a.shape, { periods: meta.periods, mask });
      }
    }
    this.signalsBox.hidden = this.signals.size === 0;
  }

  addSignalFigure(name, scalar = false) {
    const text = SIGNAL_TEXT[name] || {
      title: humanise(name),
      about: `A quantity the credit rule computes while it processes the example trial ("${name}"), one row per ` +
        "component, time in steps left to right. Red is positive, blue negative.",
    };
    const id = `signal-${name.replace(/[^\w-]/g, "_")}`;
    const fig = document.createElement("figure");
    fig.className = "chart has-data";
    fig.id = `chart-${id}`;
    fig.dataset.kind = "signal";
    const cap = document.createElement("figcaption");
    const h = document.createElement("h2");
    h.textContent = text.title;
    const btn = document.createElement("button");
    btn.type = "button";
    btn.className = "about";
    btn.setAttribute("aria-expanded", "false");
    btn.setAttribute("aria-controls", `about-${id}`);
    btn.textContent = "What am I looking at?";
    cap.append(h, btn);
    const about = document.createElement("p");
    about.className = "about-text";
    about.id = `about-${id}`;
    about.hidden = true;
    about.textContent = text.about;
    const box = document.createElement("div");
    box.className = scalar ? "plot" : "raster";
    fig.append(cap, about, box);
    this.signalsBox.append(fig);
    nameAbout(btn);
    let s;
    if (scalar) {
      const chart = new LineChart(box, { xTitle: "update", yTitle: text.y || "value", name: humanise(name), hoverFormat: ".3g" });
      chart.reset(this.colour);
      s = { fig, chart, scalar: true, lastStep: -1 };
    } else {
      const raster = new Raster(box, {
        map: NON_NEGATIVE.has(name) ? "viridis" : "diverging", limits: "smooth", xTitle: "trial time (steps)", yTitle: text.y || "component", label: text.title,
        hover: (r, c, v) => `${r}, step ${c}: ${v}`,
      });
      s = { fig, raster, scalar: false };
    }
    this.signals.set(name, s);
    return s;
  }

  /** Toggle the empty-state notes: a chart with data hides its note. */
  markData(snapshot = false) {
    const has = (id, yes) => document.getElementById(id)?.classList.toggle("has-data", Boolean(yes));
    has("chart-loss", this.loss.points > 0);
    has("chart-acc", this.acc.points > 0);
    has("chart-align", this.align.points > 0);
    if (snapshot) {
      has("chart-wrec", this.wrec.frames > 0);
      has("chart-wchange", this.wchange.frames > 0);
      has("chart-output", this.output.frames > 0);
      has("chart-activity", this.activity.frames > 0);
      has("chart-cost", true);
    }
  }

  /** No run: every live chart shows its empty note. */
  clearAll() {
    for (const id of ["chart-loss", "chart-acc", "chart-align", "chart-wrec", "chart-wchange", "chart-output", "chart-activity", "chart-cost"]) {
      document.getElementById(id)?.classList.remove("has-data");
    }
    for (const s of this.signals.values()) s.fig.remove();
    this.signals.clear();
    this.signalsBox.hidden = true;
    this.wrec.frames = 0;
    this.wchange.frames = 0;
    this.output.frames = 0;
    this.activity.frames = 0;
  }
}
