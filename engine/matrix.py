"""The matrix: every task × rule at its defaults over several seeds, and the contrast each task's default shows.

Each run is ``RunSpec(task=…, rule=…, seed=…)`` with every other setting at its default (alignment is switched off:
it does not change learning, only costs time). A run is summarised by its *late means*

    late(x) = (1/w) Σ_{k > N−w} x_k,      w = max(10, ⌈N/10⌉), or all N updates if N < 10           (1)

(the mean over the last 10 % of the N updates, not the last noisy batch), and a cell (task, rule) by the mean, the
minimum and the maximum of Eq. (1) over the seeds. Each task claims a contrast — what its default teaches — as data
(:data:`CLAIMS`): checks ``rule metric op value`` that must hold on *every* seed,

    pass(check) = ∀ seed: late_seed(metric of rule) op value,      op ∈ {≥, ≤}                         (2)

A run whose loss climbs back late (optimizer instability, or an approximate rule drifting away from what it had
learned) shows as a positive *late rise*: the late mean minus the lowest mean of any earlier window of w updates,

    rise = late(loss) − min_k (1/w) Σ_{k ≤ j < k+w} loss_j,     k = 0, ⌈w/2⌉, 2⌈w/2⌉, … ≤ N − 2w      (3)

Sizes: ``ci`` runs the rules the checks name on seeds 0–1 (what ``tests/engine/test_matrix.py`` runs, about
5 minutes on one core); ``full`` runs every rule on seeds 0–4, RTRL only where its cost stays small (trials of at
most :data:`RTRL_MAX_STEPS` steps): at 32 units it takes about 20× BPTT's time per update.
"""

from __future__ import annotations

import json
import math
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Literal

import torch

from engine.rules import RULES
from engine.spec import RunSpec
from engine.tasks import TASKS

from engine.training import late_mean


@dataclass(frozen=True)
class Check:
    """One claimed inequality of Eq. (2)."""

    rule: str
    metric: Literal["accuracy", "loss"]
    op: Literal[">=", "<="]
    value: float

    def holds(self, x: float) -> bool:
        return x >= self.value if self.op == ">=" else x <= self.value

    def __str__(self) -> str:
        return f"{self.rule} {self.metric} {'≥' if self.op == '>=' else '≤'} {self.value:g}"


#: What each task's default shows, and the checks that say so (Eq. 2). Accuracy for decisions is the share of
#: trials right (chance ½); for regression tasks it is the variance explained R² (or the share within tolerance).
CLAIMS: dict[str, tuple[str, list[Check]]] = {
    "dnms": ("e-prop carries the sample across the delay as BPTT does; a fixed random network (readout) stays "
             "near chance (½)",
             [Check("bptt", "accuracy", ">=", 0.95), Check("eprop", "accuracy", ">=", 0.95),
              Check("readout", "accuracy", "<=", 0.75)]),
    "add": ("BPTT reaches the optimal floor (0.454: both lags); e-prop does not even reach the first-lag floor "
            "(0.519) and ends between it and readout-only, which stays near the no-memory floor (0.662)",
            [Check("bptt", "loss", "<=", 0.47), Check("eprop", "loss", ">=", 0.55),
             Check("readout", "loss", ">=", 0.60)]),
    "evidence_accumulation": ("with fast units (α = ½) BPTT learns to count the cues and hold the count; a fixed "
                              "random network falls short",
                              [Check("bptt", "accuracy", ">=", 0.93), Check("readout", "accuracy", "<=", 0.9)]),
    "pattern_generation": ("with no input to mark time, only a rule that trains the recurrent weights can make the "
                           "pattern: BPTT on every seed; a fixed random network's readout explains nothing (RFLO "
                           "gets there more slowly: bench/a1_rflo_periodic.py)",
                           [Check("bptt", "accuracy", ">=", 0.95), Check("readout", "accuracy", "<=", 0.2)]),
    "path_integration": ("e-prop builds an integrator as well as BPTT (R² ≈ 0.98); a fixed random network's leak "
                         "forgets old velocities and its readout explains less, by a margin that varies with the "
                         "seed (R² 0.5–0.86)",
                         [Check("bptt", "accuracy", ">=", 0.95), Check("eprop", "accuracy", ">=", 0.95),
                          Check("readout", "accuracy", "<=", 0.9)]),
    "store_recall": ("BPTT and e-prop learn to gate the value in at the store cue and keep it; a fixed random network "
                     "recalls within tolerance little more often than answering 0 (10 %)",
                     [Check("bptt", "accuracy", ">=", 0.75), Check("eprop", "accuracy", ">=", 0.5),
                      Check("readout", "accuracy", "<=", 0.3)]),
}

SIZES: dict[str, dict[str, Any]] = {
    "ci": {"seeds": (0, 1), "rules": "claimed"},
    "full": {"seeds": (0, 1, 2, 3, 4), "rules": "all"},
}

#: RTRL runs in the full matrix only on tasks whose trials are at most this long.
RTRL_MAX_STEPS = 40


def rules_for(task: str, size: str) -> list[str]:
    """The rules of a task's row: those its checks name (ci), or every rule (full; RTRL only on short trials)."""
    claimed = [c.rule for c in CLAIMS.get(task, ("", []))[1]]
    if SIZES[size]["rules"] == "claimed" and claimed:
        return list(dict.fromkeys(claimed))
    names = [name for name, _ in RULES]
    if "rtrl" in names:
        from engine.training import Trainer

        steps = Trainer(RunSpec(task=task, steps=1)).example.steps
        if steps > RTRL_MAX_STEPS:
            names.remove("rtrl")
    return names


def run_one(task: str, rule: str, seed: int, steps: int | None = None) -> dict[str, Any]:
    """One run at the defaults; its late means (Eq. 1), ms per update and status."""
    from engine.training import Trainer

    torch.set_num_threads(1)
    spec = RunSpec(task=task, rule=rule, seed=seed, alignment_every=0,
                   **({} if steps is None else {"steps": steps}))
    cpu = time.process_time()
    trainer = Trainer(spec)
    history = list(trainer.run())
    cpu = time.process_time() - cpu
    return {"task": task, "rule": rule, "seed": seed, "status": trainer.status, "steps": len(history),
            "accuracy": late_mean(history, "accuracy"), "loss": late_mean(history, "loss"),
            "ms_per_update": sum(r.ms for r in history) / max(1, len(history)),
            "rise": late_rise([r.loss for r in history]), "cpu_s": cpu}


def late_rise(losses: list[float]) -> float:
    """Eq. (3); 0 for runs too short to have an earlier window."""
    n = len(losses)
    w = max(10, math.ceil(n / 10))
    if n < 2 * w:
        return 0.0
    earlier = [sum(losses[k:k + w]) / w for k in range(0, n - 2 * w + 1, math.ceil(w / 2))]
    return sum(losses[-w:]) / w - min(earlier)


def _spread(xs: list[float]) -> dict[str, float]:
    return {"mean": sum(xs) / len(xs), "min": min(xs), "max": max(xs)}


def run_matrix(size: str = "ci", tasks: list[str] | None = None, seeds: tuple[int, ...] | None = None,
               steps: int | None = None, jobs: int = 1, progress: Callable[[dict[str, Any]], None] | None = None
               ) -> dict[str, Any]:
    """Every task × rule × seed at its defaults; cells (mean, min, max over seeds) and the checks of Eq. (2)."""
    tasks = tasks or [name for name, _ in TASKS]
    seeds = seeds or SIZES[size]["seeds"]
    jobs_list = [(t, r, s, steps) for t in tasks for r in rules_for(t, size) for s in seeds]
    runs: list[dict[str, Any]] = []
    if jobs > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(jobs) as pool:
            for run in pool.map(run_one, *zip(*jobs_list)):
                runs.append(run)
                progress and progress(run)
    else:
        for job in jobs_list:
            runs.append(run_one(*job))
            progress and progress(runs[-1])
    cells: dict[str, dict[str, Any]] = {}
    for t in tasks:
        for r in dict.fromkeys(j[1] for j in jobs_list if j[0] == t):
            mine = [x for x in runs if x["task"] == t and x["rule"] == r]
            cells.setdefault(t, {})[r] = {
                "accuracy": _spread([x["accuracy"] for x in mine]), "loss": _spread([x["loss"] for x in mine]),
                "ms_per_update": sum(x["ms_per_update"] for x in mine) / len(mine),
                "rise": max(x["rise"] for x in mine),
                "status": sorted({x["status"] for x in mine}), "steps": mine[0]["steps"],
                "seeds": {x["seed"]: {"accuracy": x["accuracy"], "loss": x["loss"]} for x in mine},
            }
    return {"size": size, "seeds": list(seeds), "steps": steps, "torch": torch.__version__,
            "cpu_s": sum(x["cpu_s"] for x in runs),
            "machine": platform.machine(), "cells": cells, "claims": judge(cells, seeds), "runs": runs}


def judge(cells: dict[str, dict[str, Any]], seeds: tuple[int, ...] | list[int]) -> dict[str, Any]:
    """Eq. (2) for every check of every task in ``cells``: the per-seed values and pass/fail."""
    claims = {}
    for t, rows in cells.items():
        contrast, checks = CLAIMS.get(t, ("(no contrast claimed)", []))
        out = []
        for c in checks:
            per_seed = rows[c.rule]["seeds"] if c.rule in rows else {}
            values = [(per_seed.get(s) or per_seed.get(str(s)))[c.metric] for s in seeds] if per_seed else []
            out.append({"check": str(c), "rule": c.rule, "metric": c.metric, "op": c.op, "value": c.value,
                        "values": values, "pass": bool(values) and all(c.holds(v) for v in values)})
        claims[t] = {"contrast": contrast, "checks": out, "pass": all(r["pass"] for r in out)}
    return claims


def _fmt(cell: dict[str, float], spec: str) -> str:
    return f"{cell['mean']:{spec}} ({cell['min']:{spec}}–{cell['max']:{spec}})"


def to_markdown(result: dict[str, Any], command: str) -> str:
    """docs/matrix.md: one table per task and its claimed contrast with pass/fail per check."""
    seeds = result["seeds"]
    lines = [
        "# The matrix: every task × rule at its defaults",
        "",
        f"Generated by `{command}` — **{result['size'].upper()}-sized**: seeds {', '.join(map(str, seeds))}, "
        f"{'every rule' if result['size'] == 'full' else 'the rules each task’s claim names'}, "
        "each task at its default settings and default number of updates. Accuracy and loss are the mean over the "
        "last 10 % of updates (at least 10) of each run, given as mean (min–max) over the seeds. ms/update is "
        "the rule's own time per update on one thread. Late rise: the late mean loss minus the lowest mean of any "
        "earlier window of the same length, the largest over the seeds (positive: the loss climbed back). Accuracy: share of trials right for decisions (chance ½); "
        "variance explained R² for pattern_generation and path_integration; share of recalls within tolerance for "
        "store_recall; share of steps within 0.125 of the true probability for add.",
        "",
        f"CPU time of the whole matrix: {result['cpu_s'] / 60:.1f} min (one thread per run).",
        "",
    ]
    for task, rows in result["cells"].items():
        claim = result["claims"][task]
        mark = "pass" if claim["pass"] else "FAIL"
        lines += [f"## {task}", "", f"**Contrast ({mark}):** {claim['contrast']}.", ""]
        lines += [f"- {'✓' if c['pass'] else '✗'} {c['check']} on every seed "
                  f"(per seed: {', '.join(f'{v:.3f}' for v in c['values'])})" for c in claim["checks"]]
        lines += ["", "| rule | accuracy | loss | late rise (max) | ms/update |", "|---|---|---|---|---|"]
        for rule, cell in rows.items():
            lines.append(f"| {rule} | {_fmt(cell['accuracy'], '.3f')} | {_fmt(cell['loss'], '.3f')} | "
                         f"{cell['rise']:+.3f} | {cell['ms_per_update']:.1f} |")
        lines.append("")
    return "\n".join(lines)


def write(result: dict[str, Any], folder: Path, command: str) -> tuple[Path, Path]:
    """Write ``matrix.md`` and ``matrix.json`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    md, js = folder / "matrix.md", folder / "matrix.json"
    md.write_text(to_markdown(result, command))
    js.write_text(json.dumps({k: v for k, v in result.items()}, indent=1, default=str))
    return md, js
