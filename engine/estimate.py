"""Estimate a run's cost before it starts: the cost meter's figures, with the time per update predicted, not measured.

A rule counts what one update asks of the machine (``CreditRule.work``: matrix-product flops F, numbers E passed
through elementwise operations, tensor operations C). Three rates of this machine are measured once per process,
each by a small timed operation (:func:`machine`): r_F flops per second of a batched matrix product, t_E seconds
per number of an elementwise product, t_C seconds per call of a small product that records a graph. Then

    ms_per_update ≈ 1000 · (F / r_F + E · t_E + C · t_C)                                              (1)

Small networks are dominated by C (the overhead of each call), RTRL at n ≳ 64 by F and E. Eq. (1) is good to a
factor of about 2–3 — enough to warn that an update will take seconds. A run is ``slow`` when Eq. (1) exceeds 1 s.
"""

from __future__ import annotations

import functools
import statistics
import time
from typing import Any, Callable, NamedTuple

import torch

from engine.rules import RULES
from engine.spec import RunSpec, resolve
from engine.training import build, cost_figures

SLOW_MS = 1000.0


class Machine(NamedTuple):
    flops_per_s: float
    s_per_element: float
    s_per_call: float
    """Seconds per unit of C: one time step of a tiny network, forward and backward."""


def _timed(fn: Callable[[], Any], repeats: int) -> float:
    """The median of ``repeats`` timings of ``fn`` after one warm-up: what a run sees, busy moments included."""
    for _ in range(3):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


@functools.cache
def machine() -> Machine:
    """The three rates of Eq. (1), measured once per process (about 0.1 s) on one thread, as a web run's worker
    uses (more threads on busy cores can make small operations far slower, not faster)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _measure()
    finally:
        torch.set_num_threads(before)


def _measure() -> Machine:
    with torch.no_grad():
        a, b = torch.randn(16, 48, 48), torch.randn(16, 48, 512)
        mm = _timed(lambda: torch.bmm(a, b), 9)
        x, y, z = torch.randn(2**22), torch.randn(2**22), torch.empty(2**22)  # 16 MB: beyond the caches
        el = _timed(lambda: torch.mul(x, y, out=z), 9)
    w, u, b = (torch.randn(*shape, requires_grad=True) for shape in ((8, 8), (8, 3), (8,)))
    xs = torch.randn(20, 4, 3)

    def steps() -> None:  # 20 steps of a tiny leaky rnn and their backward pass: overhead only
        h = torch.zeros(4, 8)
        for x in xs:
            h = 0.5 * h + 0.5 * torch.tanh(h @ w.T + x @ u.T + b)
        h.sum().backward()

    step = _timed(steps, 9) / 20
    return Machine(2 * 16 * 48 * 48 * 512 / mm, el / 2**22, step)


def estimate(spec: RunSpec) -> dict[str, Any]:
    """The cost figures of ``Trainer.cost`` for ``spec`` — state, buffer, BPTT's state, T, batch — with
    ``ms_per_update`` from Eq. (1), plus ``slow`` (over 1 s per update). No training; raises what ``resolve`` and
    ``build`` raise (UnknownName, Incompatible, SettingError)."""
    r = resolve(spec)
    task, arch, rule, example = build(r)
    bptt_cls = RULES.get("bptt")
    bptt = bptt_cls(bptt_cls.Config(), arch, torch.Generator())
    work = rule.work(spec.batch, example.steps)
    m = machine()
    ms = 1000.0 * (work.flops / m.flops_per_s + work.elements * m.s_per_element + work.calls * m.s_per_call)
    return {**cost_figures(rule, bptt, spec.batch, example.steps, ms), "slow": ms > SLOW_MS}
