"""Benchmark: what each credit rule costs, side by side in one process.

For every registered rule that can train the rnn, at each size (n hidden units, T steps per trial, a batch of
trials of the Add task), :func:`run_bench` reports

* the median wall-clock milliseconds of one update — the rule's gradient, writing ``.grad``, an SGD step and
  ``after_update``, i.e. what the trainer times — after a few warm-up updates; the rules take turns, one update
  each, so that a slow moment of the machine hits all of them alike;
* the bytes of state the algorithm must hold for the batch (``CreditRule.state_bytes``) and, apart, the working
  buffer of its implementation (``CreditRule.buffer_bytes``, e.g. the chunk of the fast e-prop);

each also as a ratio to BPTT at the same size. Ratios are the point: absolute times depend on the machine and on
``torch.set_num_threads`` (``threads``). A rule that refuses a size (its constructor or first update raises
``ValueError``, e.g. RTRL over its memory budget) is skipped with a note. So is a size where one update of a rule
would take longer than ``budget_s`` seconds and over 10 times BPTT's — judged from an update on a 2-step trial first,
so that nobody waits minutes for RTRL at n = 128 — and any size at least as large in both n and T as one that was
too slow for that rule.
"""

from __future__ import annotations

import copy
import statistics
import time
from typing import Any, Iterable

import torch

from engine.archs import ARCHS
from engine.archs.rnn import RNN, RNNConfig
from engine.rules import RULES
from engine.rules.base import CreditRule
from engine.tasks.add import Add, AddConfig
from engine.trial import Trial

SIZES = (32, 64, 128)
STEPS = (50, 100, 200)


def _update(rule: CreditRule, optimizer: torch.optim.Optimizer, task: Add, trial: Any) -> float:
    """One update as the trainer does it; returns its milliseconds."""
    start = time.perf_counter()
    grads, _ = rule.gradients(task, trial)
    optimizer.zero_grad(set_to_none=True)
    rule.apply(grads)
    optimizer.step()
    rule.after_update()
    return (time.perf_counter() - start) * 1000


def _bench_size(n: int, T: int, batch: int, names: list[str], warmup: int, repeats: int, budget_s: float,
                too_big: dict[str, tuple[int, int]], arch: str = "rnn") -> list[dict[str, Any]]:
    task = Add(AddConfig(steps=T))
    trial = task.sample(batch, torch.Generator().manual_seed(1))
    probe = Trial(trial.inputs[:2], trial.targets[:2], trial.mask[:2])  # to foresee a rule that would take minutes
    arch_cls = ARCHS.get(arch)
    base = arch_cls(arch_cls.Config(hidden=n), task.n_inputs, task.n_outputs, torch.Generator().manual_seed(0))
    rows: dict[str, dict[str, Any]] = {}
    live: dict[str, tuple[CreditRule, torch.optim.Optimizer]] = {}
    ref: dict[str, float] = {}  # BPTT's probe and first update (names start with bptt)

    def slow(ms: float, key: str) -> bool:
        """Over budget, and by the rule's own doing: a busy machine slows BPTT as well."""
        return ms > budget_s * 1000 and ms > 10 * ref.get(key, ms)

    for name in names:
        row = rows[name] = {"rule": name, "arch": arch, "n": n, "steps": T, "batch": batch, "ms": None,
                            "state_bytes": None, "buffer_bytes": None, "note": ""}
        try:
            cls = RULES.get(name)
            rule = cls(cls.Config(), copy.deepcopy(base), torch.Generator().manual_seed(2))
            row["state_bytes"] = rule.state_bytes(batch, T)
            row["buffer_bytes"] = rule.buffer_bytes(batch, T)
            if name in too_big and n >= too_big[name][0] and T >= too_big[name][1]:
                row["note"] = f"skipped: over {budget_s:g} s per update already at n={too_big[name][0]}, " \
                              f"T={too_big[name][1]}"
                continue
            # A tiny learning rate: the weights, and so the work, stay what they were.
            optimizer = torch.optim.SGD(list(rule.trainable().values()), lr=1e-12)
            guess = min(_update(rule, optimizer, task, probe) for _ in range(2)) * T / probe.steps
            ref.setdefault("guess", guess)
            if slow(guess, "guess"):
                too_big[name] = (n, T)
                row["note"] = f"skipped: about {guess / 1000:.0f} s per update (from a {probe.steps}-step trial)"
                continue
            first = _update(rule, optimizer, task, trial)
            ref.setdefault("first", first)
        except ValueError as err:
            row["note"] = f"refused: {err}".split(";")[0][:120]
            continue
        if slow(first, "first"):
            too_big[name] = (n, T)
            row["ms"], row["note"] = first, "one update only (slow)"
            continue
        live[name] = (rule, optimizer)
    for _ in range(max(0, warmup - 1)):
        for rule, optimizer in live.values():
            _update(rule, optimizer, task, trial)
    times: dict[str, list[float]] = {name: [] for name in live}
    for _ in range(repeats):  # rules take turns: side by side
        for name, (rule, optimizer) in live.items():
            times[name].append(_update(rule, optimizer, task, trial))
    for name, ts in times.items():
        rows[name]["ms"] = statistics.median(ts)
    bptt = rows["bptt"]
    for row in rows.values():
        for key in ("ms", "state_bytes"):
            ok = row[key] is not None and bptt[key]
            row[key + "_ratio"] = row[key] / bptt[key] if ok else None
    return list(rows.values())


def run_bench(sizes: Iterable[int] = SIZES, steps: Iterable[int] = STEPS, batch: int = 32,
              rules: Iterable[str] | None = None, threads: int | None = None, warmup: int = 2, repeats: int = 5,
              budget_s: float = 5.0, arch: str = "rnn") -> list[dict[str, Any]]:
    """Time every rule that trains ``arch`` (or those named in ``rules``; BPTT is always included, as the reference)
    at every (n, T).
    Rows: rule, n, steps, batch, ms, ms_ratio, state_bytes, state_bytes_ratio, buffer_bytes, note."""
    chosen = [name for name, cls in RULES if arch in cls.supports and (rules is None or name in rules)]
    names = ["bptt"] + [name for name in chosen if name != "bptt"]
    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    too_big: dict[str, tuple[int, int]] = {}
    rows: list[dict[str, Any]] = []
    try:
        for n in sorted(sizes):
            for T in sorted(steps):
                rows += _bench_size(n, T, batch, names, warmup, repeats, budget_s, too_big, arch)
    finally:
        torch.set_num_threads(before)
    return rows


def _bytes(b: int | None) -> str:
    if b is None:
        return "-"
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if b >= size:
            return f"{b / size:.1f} {unit}"
    return f"{b} B"


def _num(x: float | None, fmt: str) -> str:
    return "-" if x is None else format(x, fmt)


def format_table(rows: list[dict[str, Any]]) -> str:
    """A plain-text table of :func:`run_bench` rows, one line per rule and size."""
    head = ("rule", "n", "T", "batch", "ms/update", "x bptt", "state", "x bptt", "buffer", "note")
    lines = [(r["rule"], str(r["n"]), str(r["steps"]), str(r["batch"]), _num(r["ms"], ".1f"),
              _num(r.get("ms_ratio"), ".2f"), _bytes(r["state_bytes"]), _num(r.get("state_bytes_ratio"), ".3f"),
              _bytes(r.get("buffer_bytes")), r["note"]) for r in rows]
    widths = [max(len(h), *(len(line[i]) for line in lines)) if lines else len(h) for i, h in enumerate(head)]

    def fmt(cells: tuple[str, ...]) -> str:
        cols = (c.rjust(w) if 0 < i < 9 else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))
        return "  ".join(cols).rstrip()

    out = [fmt(head), fmt(tuple("-" * w for w in widths))]
    previous = None
    for line in lines:
        if previous is not None and line[1:3] != previous:
            out.append("")
        out.append(fmt(line))
        previous = line[1:3]
    return "\n".join(out)


# -- the reference row: engine BPTT against a plain hand-written PyTorch loop --------------------------------------
REFERENCE_SIZES = (32, 128)


def reference_rows(sizes: Iterable[int] = REFERENCE_SIZES, steps: Iterable[int] = STEPS, batch: int = 32,
                   threads: int | None = 1, warmup: int = 2, repeats: int = 7) -> list[dict[str, Any]]:
    """Engine BPTT (``engine.rules.bptt``) against :class:`engine.bench_reference.PlainBPTT` at every (n, T): the
    same initial weights, the same Add trials, Adam (lr 1e-3) on both, updates taken in turn, median of ``repeats``.
    Rows: n, steps, batch, engine_ms, plain_ms, ratio (engine / plain; ≤ 1 is the target), loss_gap (|ΔL| of the
    first update: the two compute the same loss)."""
    from engine.bench_reference import PlainBPTT

    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    rows = []
    try:
        for n in sorted(sizes):
            for T in sorted(steps):
                task = Add(AddConfig(steps=T))
                trial = task.sample(batch, torch.Generator().manual_seed(1))
                base = RNN(RNNConfig(hidden=n), task.n_inputs, task.n_outputs, torch.Generator().manual_seed(0))
                rule = RULES.get("bptt")(RULES.get("bptt").Config(), copy.deepcopy(base), torch.Generator())
                optimizer = torch.optim.Adam(list(rule.trainable().values()), lr=1e-3)
                plain = PlainBPTT(base, lr=1e-3)
                with torch.no_grad():
                    gap = abs(float(rule.gradients(task, trial)[1].loss) - float(plain.loss(trial)))
                timed = {"engine": lambda: _update(rule, optimizer, task, trial), "plain": lambda: _ms(plain, trial)}
                for _ in range(warmup):
                    for f in timed.values():
                        f()
                times: dict[str, list[float]] = {k: [] for k in timed}
                for _ in range(repeats):
                    for k, f in timed.items():
                        times[k].append(f())
                e, p = statistics.median(times["engine"]), statistics.median(times["plain"])
                rows.append({"n": n, "steps": T, "batch": batch, "engine_ms": e, "plain_ms": p, "ratio": e / p,
                             "loss_gap": gap})
    finally:
        torch.set_num_threads(before)
    return rows


def _ms(plain: Any, trial: Trial) -> float:
    start = time.perf_counter()
    plain.update(trial)
    return (time.perf_counter() - start) * 1000


def format_reference(rows: list[dict[str, Any]]) -> str:
    """The reference rows as text: one line per size, the ratio last."""
    out = ["engine bptt vs a plain PyTorch loop (same weights, trials, Adam; median ms/update, turn by turn)",
           f"{'n':>5} {'T':>5} {'batch':>5} {'engine ms':>10} {'plain ms':>10} {'engine/plain':>13} {'|dL|':>9}"]
    for r in rows:
        out.append(f"{r['n']:>5} {r['steps']:>5} {r['batch']:>5} {r['engine_ms']:>10.1f} {r['plain_ms']:>10.1f} "
                   f"{r['ratio']:>13.2f} {r['loss_gap']:>9.1e}")
    return "\n".join(out)
