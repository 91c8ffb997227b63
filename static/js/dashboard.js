// All live charts of one run and the render loop that draws them.
//
// Data arrives whenever the server sends it; drawing happens only in requestAnimationFrame, from the newest data,
// one drawing job per frame so that no frame blocks input for long: a curve (batched extendTraces) at most ~10
// times a second, or one part of a snapshot (weights, output, activity, cost, signals; a snapshot at most ~5 times a
// second). A snapshot superseded before it could be drawn is dropped. After a job whose frame ran c ms long the loop rests
// c·(1/DRAW_SHARE − 1) ms (at most MAX_REST_MS), so drawing keeps to about DRAW_SHARE of the main thread however slow
// the machine, and the page stays smooth while a run streams; a chart out of view (scrolled away, in a closed
// panel) is brought up to date only every OUT_OF_VIEW_MS. Snapshots are acknowledged only after all their parts are
// drawn (covering the dropped ones too), so a hidden tab, where rAF does not run, stops the snapshot stream.

import { LineChart } from "./plots/lines.js";
import { WeightHeatmap } from "./plots/heatmap.js";
import { Raster } from "./plots/raster.js";
import { OutputChart } from "./plots/trial.js";
import { CostMeter } from "./plots/cost.js";
import { AlignmentChart } from "./plots/alignment.js";
import { SpikeView } from "./plots/spikes.js";
import { MatrixGrid, matrixNames } from "./plots/matrices.js";
import { VariableView } from "./plots/variables.js";
import { SynapseCurves } from "./plots/synapses.js";
import { chartFigure, humanise } from "./plots/figure.js";
import { StickyLimit, maxAbs, niceCeil } from "./plots/common.js";
import { taskGuides } from "./plots/guides.js";
import { lateMean, lateWindow } from "./summary.js";
import { app } from "./store.js";
import { control } from "./runs.js";

const CURVE_INTERVAL_MS = 100; // a curve in view: at most ~10 draws a second
const SNAPSHOT_INTERVAL_MS = 200; // snapshots: at most ~5 a second
const OUT_OF_VIEW_MS = 2000; // a Plotly chart out of view: brought up to date every 2 s
const DRAW_SHARE = 0.12; // drawing's share of the main thread while a run streams
const FRAME_MS = 1000 / 60; // a frame at the display's usual rate
const FREE_MS = 4; // a job whose frame ran this little over needs no rest
const MAX_REST_MS = 600; // a slow job never holds back the next for longer
const CHEAP_MS = 6; // a frame's drawing may go on with a snapshot's next part while it has taken less than this
const QUIET_MS = 300; // no message for this long: the stream has stopped, and whatever is left is drawn at once
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


/**
 * Parts of a snapshot that only some networks or rules send, each drawn in a figure made on first use: every
 * declared weight matrix (when there is more than the one the big heatmap shows), the network's declared state
 * variables, and the shown synapses' trace, signal and their product.
 */
const EXTRA = {
  matrices: {
    has: (arrays, names) => names.length > 1,
    make: (box) => new MatrixGrid(box),
    title: "Every weight matrix of the network",
    about: "Each weight matrix the network declares, under its own name (rows: the receiving units; columns: the " +
      "sending units or inputs). W_in carries the inputs, W_out is the readout; a gated network has one recurrent " +
      "and one input matrix per gate. Red is positive, blue negative, each matrix with its own fixed colour limits. " +
      "\"Change since the start\" shows where the rule has put its updates.",
  },
  variables: {
    has: (arrays) => Object.keys(arrays).some((k) => k.startsWith("variables.")),
    make: (box) => new VariableView(box),
    title: "Inside each unit during the trial",
    about: "Variables the network declares for each unit (for a gated network, its gates), over the example trial " +
      "with the current weights: one row per unit, time left to right. Dark purple is low, yellow high (viridis). " +
      "An update gate near 1 keeps the unit's state (a long memory); near 0 the unit takes the new input.",
  },
  synapses: {
    has: (arrays) => Boolean(arrays["synapses.credit"]),
    make: (box, colour) => new SynapseCurves(box, colour),
    plotly: true, // costs tens of milliseconds: drawn like the other Plotly charts (less often out of view)
    title: "How one synapse gets its credit",
    about: "For one synapse (pick it with the buttons, matrix[receiving unit, sending unit], or click a square of " +
      "the big weight map), over the example " +
      "trial: its eligibility trace (top), a local memory of how its input and its unit's state met recently; the " +
      "learning signal its unit receives (middle), the error sent back to it; and their product (bottom). The rule " +
      "changes the weight by the sum of the product over the trial: credit arrives where a trace meets a signal.",
  },
};

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
    this.extra = new Map(); // figures made on first use for what only some networks and rules send (EXTRA)
    // A click on the big heatmap picks that synapse for "How one synapse gets its credit" (a "synapse" control).
    this.synapseWeight = null;
    this.wrec.raster.canvas.addEventListener("click", (e) => this.pickSynapse(e));
    this.changeLimit = new StickyLimit(1.2);
    this.pendingFrame = null;
    this.owedAcks = 0;
    this.lastCurve = 0;
    this.lastSnap = 0;
    this.lastStep = 0;
    this.ackFn = null;
    this.latest = { step: 0, loss: null, accuracy: null };
    this.snapParts = []; // the undrawn parts of the snapshot being drawn, one per frame
    this.later = []; // first draws of charts after a reset, one per frame
    this.restUntil = 0;
    this.lastMessage = -Infinity; // when the last metrics or snapshot message arrived
    this.jobAt = null; // when the frame of the last drawing job began (its cost is measured at the next frame)
    this.curveTurn = false; // curves and snapshot parts take turns
    this.inView = new WeakMap(); // figure → whether it is (partly) on screen
    this.drawnAt = new WeakMap(); // chart → when it was last drawn
    this.views = typeof IntersectionObserver === "function"
      ? new IntersectionObserver((entries) => { for (const e of entries) this.inView.set(e.target, e.isIntersecting); })
      : null;
    for (const el of [this.loss.el, this.acc.el, this.align.el, this.output.el, this.cost.el?.plot]) this.watchView(el);
    this.loop = this.loop.bind(this);
    requestAnimationFrame(this.loop);
  }

  /** Keep the loss and accuracy curves drawn now as grey ghosts under the next runs' (``name`` labels them). */
  pin(name) {
    for (const chart of [this.loss, this.acc]) chart.pin({ ...chart.curve(), name });
  }

  unpin() {
    for (const chart of [this.loss, this.acc]) chart.pin(null);
  }

  /** Start over for a run (or none): empty curves in the rule's colour, fresh colour limits. */
  reset(colour, ruleName, history = []) {
    this.colour = colour;
    this.pendingFrame = null;
    this.snapParts = [];
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
    this.spikes?.fig.remove(); // a new run may not spike at all
    this.spikes = null;
    this.dropExtra();
    this.showPickable(null);
    this.output.reset(colour);
    this.cost.reset(colour, ruleName);
    // A stochastic estimator's alignment chart shows the spread of its estimates (plots/alignment.js).
    const stochastic = Boolean(app.catalog?.rules?.find((r) => r.name === ruleName)?.stochastic);
    let recs = history.filter((r) => r && typeof r.step === "number");
    if (recs.length > MAX_HISTORY_POINTS) {
      // Thin a long history evenly but keep the newest record.
      const stride = Math.ceil(recs.length / MAX_HISTORY_POINTS);
      recs = recs.filter((_, i) => i % stride === 0 || i === recs.length - 1);
    }
    const x = recs.map((r) => r.step);
    this.loss.reset(colour, x, recs.map((r) => finiteOrNull(r.loss)));
    // The loss chart first, on its own: the accuracy and alignment charts follow in the next frames, keeping the
    // records that arrive meanwhile.
    const accY = recs.map((r) => (finiteOrNull(r.accuracy) === null ? null : 100 * r.accuracy));
    this.later = [[this.acc, () => this.acc.reset(colour, x, accY)], [this.align, () => this.align.reset(colour, recs, stochastic)]]
      .map(([chart, draw]) => {
        chart.ready = false;
        chart.dropPending();
        return () => {
          const queued = chart.pending;
          draw();
          chart.pending = queued;
          this.markData();
        };
      });
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
    this.lastMessage = performance.now();
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
    this.lastMessage = performance.now();
  }

  /** Note when the figure holding ``el`` scrolls in or out of view (or its panel opens or closes). */
  watchView(el) {
    const fig = el && (el.closest("figure") || el);
    if (fig && this.views) this.views.observe(fig);
  }

  visible(el) {
    const fig = el && (el.closest("figure") || el);
    return !fig || this.inView.get(fig) !== false;
  }

  /** Whether a Plotly chart may be drawn now: soon after its last draw when in view, every 2 s when not. */
  due(chart, el, now, interval) {
    return now - (this.drawnAt.get(chart) ?? -Infinity) >= (this.visible(el) ? interval : OUT_OF_VIEW_MS);
  }

  loop(now) {
    requestAnimationFrame(this.loop);
    if (this.jobAt !== null) {
      // What the last job really cost: its frame's length past a normal frame (Plotly finishes some work in
      // promises, and the browser lays out and paints the changed SVG after the job returns).
      const ms = now - this.jobAt - FRAME_MS;
      this.jobAt = null;
      if (ms > FREE_MS) this.restUntil = now + Math.min(MAX_REST_MS, ms * (1 / DRAW_SHARE - 1));
      this.c.drawMsLast = Math.round(Math.max(0, ms));
      this.c.drawMsMax = Math.max(this.c.drawMsMax || 0, this.c.drawMsLast);
    }
    // While data streams, one job per frame and a rest after a costly one; once it stops, everything left at once.
    const quiet = performance.now() - this.lastMessage > QUIET_MS;
    if (!quiet && now < this.restUntil) return;
    for (let jobs = 0; jobs < (quiet ? 12 : 1); jobs++) {
      this.curveTurn = !this.curveTurn;
      const job = this.later.shift() || (this.curveTurn && this.curveJob(now, quiet)) || this.snapshotJob(now, quiet) ||
        this.curveJob(now, quiet);
      if (!job) return;
      this.jobAt = now;
      const started = performance.now();
      try {
        job();
        // The canvas parts of a snapshot (weights, activity, signals) cost well under a millisecond: go on with the
        // snapshot's next parts in the same frame while it stays cheap, so a slow machine that rests between costly
        // Plotly jobs does not starve the heatmaps.
        while (this.snapParts.length && performance.now() - started < CHEAP_MS) this.snapParts.shift()();
      } catch (err) {
        console.warn("draw failed", err);
      }
      this.c.framesRendered += 1;
    }
  }

  /** The most overdue curve with points to draw, as a job (or null). */
  curveJob(now, quiet = false) {
    let best = null;
    for (const chart of [this.loss, this.acc, this.align]) {
      if (!chart.ready || !chart.hasPending() || !(quiet || this.due(chart, chart.el, now, CURVE_INTERVAL_MS))) continue;
      if (!best || (this.drawnAt.get(chart) ?? -Infinity) < (this.drawnAt.get(best) ?? -Infinity)) best = chart;
    }
    if (!best) return null;
    return () => {
      this.drawnAt.set(best, now);
      best.flush();
      this.c.lossPoints = this.loss.points;
      this.c.curveFrames += 1;
      this.lastCurve = now;
      this.onStats({ ...this.latest, ...this.summary() });
      this.markData();
    };
  }

  /** The next part of the snapshot being drawn, or the first part of the newest one when it is due (or null). */
  snapshotJob(now, quiet = false) {
    if (!this.snapParts.length && this.pendingFrame && (quiet || now - this.lastSnap >= SNAPSHOT_INTERVAL_MS)) {
      const frame = this.pendingFrame;
      this.pendingFrame = null;
      this.lastSnap = now;
      this.snapParts = this.snapshotParts(frame, quiet ? null : now);
    }
    return this.snapParts.shift() || null;
  }

  /** Draw a whole snapshot at once (all its parts, in view or not). */
  drawSnapshot(frame) {
    for (const part of this.snapshotParts(frame, null)) part();
  }

  /**
   * A snapshot as jobs: the weight maps, the output chart, the activity raster, the cost meter, the signals, then
   * the acknowledgement. Canvases are cheap and always drawn; a Plotly chart out of view is skipped unless due.
   */
  snapshotParts({ header, arrays }, now) {
    const meta = header.meta || {};
    const ex = (n) => arrays[`example.${n}`];
    const mask = ex("mask") ? ex("mask").data : null;
    const parts = {};
    this.c.drawParts = parts;
    const timed = (name, fn) => () => {
      const t0 = performance.now();
      fn();
      parts[name] = Math.round(performance.now() - t0);
    };
    const plotly = (chart, el) => now === null || this.due(chart, el, now, SNAPSHOT_INTERVAL_MS);
    const jobs = [];
    // The big heatmaps: W_rec, or else the first square matrix the network declares (a GRU's W_hz).
    const names = matrixNames(arrays);
    const main = names.includes("W_rec") ? "W_rec"
      : names.find((n) => arrays[`weights.${n}`].shape.length === 2 && arrays[`weights.${n}`].shape[0] === arrays[`weights.${n}`].shape[1]);
    const w = main && arrays[`weights.${main}`];
    if (w) {
      jobs.push(timed("weights", () => {
        this.nameMain(main);
        this.showPickable(arrays["synapses.credit"] ? meta.synapses?.weight : null);
        this.wrec.draw(w.data, w.shape, 1);
        this.c.heatmapFrames += 1;
        const ch = arrays[`weights.${main}_change`];
        if (ch) {
          // The change map starts from a twentieth of the weight scale, so early small changes are visible without
          // the colours rescaling at every frame.
          if (this.changeLimit.value === null) this.changeLimit.reset(niceCeil((this.wrec.limit.value || 1) / 20));
          const lim = this.changeLimit.update(maxAbs(ch.data), 0.1);
          this.wchange.limit.reset(lim);
          this.wchange.draw(ch.data, ch.shape, lim);
        }
      }));
    }
    if (ex("outputs") && plotly(this.output, this.output.el)) {
      jobs.push(timed("output", () => {
        if (now !== null) this.drawnAt.set(this.output, now);
        this.output.draw(ex("outputs"), ex("targets"), mask, meta);
      }));
    }
    if (ex("activity")) {
      jobs.push(timed("activity", () => this.activity.draw(ex("activity").data, ex("activity").shape,
        { periods: meta.periods, mask })));
    }
    if (meta.cost) jobs.push(timed("cost", () => this.cost.update(meta.cost)));
    if (arrays["spiking.spikes"]) jobs.push(timed("spikes", () => this.drawSpikes(arrays, meta)));
    const decor = { periods: meta.periods, mask };
    for (const [key, spec] of Object.entries(EXTRA)) {
      if (!spec.has(arrays, names)) continue;
      const f = this.figure(key);
      if (spec.plotly && !plotly(f.view, f.fig)) continue; // a Plotly chart out of view waits its turn
      jobs.push(timed(key, () => {
        if (spec.plotly && now !== null) this.drawnAt.set(f.view, now);
        f.view.draw(arrays, meta, decor);
      }));
    }
    jobs.push(timed("signals", () => this.drawSignals(arrays, meta, mask, header.step)));
    jobs.push(() => {
      const owed = this.owedAcks;
      this.owedAcks = 0;
      for (let i = 0; i < owed; i++) this.ackFn && this.ackFn();
      this.c.snapshotsDrawn += 1;
      this.c.snapshotStep = header.step;
      this.markData(true);
    });
    return jobs;
  }

  /** The big heatmaps' titles name the matrix when it is not W_rec. */
  nameMain(name) {
    if (name === this.mainName) return;
    this.mainName = name;
    const suffix = name === "W_rec" ? "" : ` (${name})`;
    const set = (id, text) => {
      const h = document.querySelector(`#${id} h2`);
      if (h) h.textContent = text + suffix;
    };
    set("chart-wrec", "Recurrent weights now");
    set("chart-wchange", "How the recurrent weights changed since the start");
  }

  /** Whether a click on the big heatmap picks a synapse: when the rule shows synapses of the matrix drawn there. */
  showPickable(weight) {
    this.synapseWeight = weight || null;
    this.wrec.raster.canvas.style.cursor = this.pickable() ? "crosshair" : "";
    this.wrec.raster.canvas.title = this.pickable() ? "Click a synapse to see how it gets its credit" : "";
  }

  pickable() {
    return this.synapseWeight !== null && this.synapseWeight === this.mainName;
  }

  pickSynapse(e) {
    const cell = this.wrec.raster.cellAt(e);
    if (!cell || !this.pickable() || !app.runId) return;
    control("synapse", [cell.row, cell.col]).catch((err) => console.info("synapse not picked:", err?.message || err));
  }

  /** The figure of an EXTRA part, made and placed on first use. */
  figure(key) {
    let f = this.extra.get(key);
    if (!f) {
      const spec = EXTRA[key];
      const { fig, box } = chartFigure({ id: key, kind: key, title: spec.title, about: spec.about });
      this.signalsBox.hidden = false; // before the chart is made, so Plotly sees its real size
      this.signalsBox.append(fig);
      this.watchView(fig);
      f = { fig, view: spec.make(box, this.colour) };
      this.extra.set(key, f);
    }
    return f;
  }

  dropExtra() {
    for (const f of this.extra.values()) {
      this.views?.unobserve(f.fig);
      f.fig.remove();
    }
    this.extra.clear();
  }

  /** A spiking network: its spike raster and membrane potential, in a figure made on first use (plots/spikes.js). */
  drawSpikes(arrays, meta) {
    if (!this.spikes) {
      const fig = document.createElement("figure");
      fig.className = "chart has-data";
      fig.id = "chart-spikes";
      fig.dataset.kind = "spikes";
      const cap = document.createElement("figcaption");
      const h = document.createElement("h2");
      h.textContent = "Which neurons spike, and when?";
      cap.append(h);
      const box = document.createElement("div");
      fig.append(cap, box);
      this.signalsBox.hidden = false;
      this.signalsBox.prepend(fig);
      this.spikes = { fig, view: new SpikeView(box) };
    }
    this.spikes.view.draw(arrays, meta);
    this.c.spiking = meta.spiking || null;
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
    this.signalsBox.hidden = this.signals.size === 0 && !this.spikes && this.extra.size === 0;
  }

  addSignalFigure(name, scalar = false) {
    const text = SIGNAL_TEXT[name] || {
      title: humanise(name),
      about: `A quantity the credit rule computes while it processes the example trial ("${name}"), one row per ` +
        "component, time in steps left to right. Red is positive, blue negative.",
    };
    const id = `signal-${name.replace(/[^\w-]/g, "_")}`;
    const { fig, box } = chartFigure({ id, kind: "signal", title: text.title, about: text.about });
    box.className = scalar ? "plot" : "raster";
    this.signalsBox.append(fig);
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
    this.snapParts = [];
    for (const id of ["chart-loss", "chart-acc", "chart-align", "chart-wrec", "chart-wchange", "chart-output", "chart-activity", "chart-cost"]) {
      document.getElementById(id)?.classList.remove("has-data");
    }
    for (const s of this.signals.values()) s.fig.remove();
    this.signals.clear();
    this.spikes?.fig.remove();
    this.spikes = null;
    this.dropExtra();
    this.signalsBox.hidden = true;
    this.wrec.frames = 0;
    this.wchange.frames = 0;
    this.output.frames = 0;
    this.activity.frames = 0;
  }
}
