"""Running a sweep: one setting over a list of values for several rules, each point the mean over seeds.

A :class:`~engine.compare.SweepSpec` expands into runs (:func:`~engine.compare.sweep_points`); each run is
summarised by its late means (``engine.training.late_mean``: the last 10 % of updates), and a *point* (rule, value)
by the mean, minimum and maximum of those over the seeds,

    point(rule, v) = (1/S) Σ_s late_s(accuracy)    over the S seeds of the sweep                          (1)

which is the y of one line (one per rule) against the setting on the x axis: the plot that shows *where* a local
rule stops working. Runs can go to worker processes, one thread each (as :mod:`engine.matrix` does); a point is
reported through ``on_point`` as soon as its last seed finishes, so a caller can draw the sweep filling in.
Alignment is off in sweep runs: it changes nothing learned, only costs time.
"""

from __future__ import annotations

import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from multiprocessing import get_context
from typing import Any, Callable

import torch

from engine.compare import SweepSpec, sweep_points
from engine.training import late_mean


def run_point(spec_data: dict[str, Any]) -> dict[str, Any]:
    """One run of a sweep (a RunSpec as data, so it travels to a worker process): its late means and cost."""
    from engine.spec import parse_spec
    from engine.training import Trainer

    torch.set_num_threads(1)
    start = time.perf_counter()
    trainer = Trainer(parse_spec({**spec_data, "alignment_every": 0}))
    history = list(trainer.run())
    return {"status": trainer.status, "updates": len(history), "accuracy": late_mean(history, "accuracy"),
            "loss": late_mean(history, "loss"), "ms_per_update": trainer.cost()["ms_per_update"],
            "seconds": time.perf_counter() - start}


def _spread(xs: list[float | None]) -> dict[str, float | None]:
    ok = [x for x in xs if x is not None]
    if not ok:
        return {"mean": None, "min": None, "max": None}
    return {"mean": sum(ok) / len(ok), "min": min(ok), "max": max(ok)}


def summarise_point(rule: str, value: Any, runs: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """Eq. (1) for one (rule, value) from its runs by seed."""
    seeds = sorted(runs)
    return {"rule": rule, "value": value, "seeds": seeds,
            "accuracy": _spread([runs[s]["accuracy"] for s in seeds]),
            "loss": _spread([runs[s]["loss"] for s in seeds]),
            "status": sorted({runs[s]["status"] for s in seeds}),
            "per_seed": {str(s): {"accuracy": runs[s]["accuracy"], "loss": runs[s]["loss"]} for s in seeds}}


def sweep(sw: SweepSpec, jobs: int = 1, on_point: Callable[[dict[str, Any]], None] | None = None,
          should_stop: Callable[[], bool] | None = None, processes: bool = False) -> dict[str, Any]:
    """Run every point of ``sw`` (in ``jobs`` worker processes when ``jobs`` > 1 or ``processes``; else in this
    thread), calling ``on_point`` with each
    point as it completes; ``should_stop()`` (checked between runs) ends the sweep early with the points so far.
    Returns the spec, the points in completion order and the lines (rule → means in ``values`` order)."""
    runs = sweep_points(sw)  # validates every point before anything trains
    pending: dict[tuple[str, int], dict[int, dict[str, Any]]] = {}
    need = len(sw.seeds)
    points: list[dict[str, Any]] = []
    start = time.perf_counter()

    def done(rule: str, vi: int, seed: int, out: dict[str, Any]) -> None:
        got = pending.setdefault((rule, vi), {})
        got[seed] = out
        if len(got) == need:
            points.append(summarise_point(rule, sw.values[vi], got))
            on_point and on_point(points[-1])

    index = {repr(v): i for i, v in enumerate(sw.values)}
    jobs_list = [(rule, index[repr(value)], seed, spec.model_dump()) for rule, value, seed, spec in runs]
    if jobs > 1 or processes:
        with ProcessPoolExecutor(jobs, mp_context=get_context("spawn")) as pool:
            futures: dict[Future[dict[str, Any]], tuple[str, int, int]] = {}
            queue = list(jobs_list)
            while queue or futures:
                while queue and len(futures) < jobs and not (should_stop and should_stop()):
                    rule, vi, seed, data = queue.pop(0)
                    futures[pool.submit(run_point, data)] = (rule, vi, seed)
                if not futures:
                    break
                finished, _ = wait(futures, return_when=FIRST_COMPLETED)
                for f in finished:
                    done(*futures.pop(f), f.result())
    else:
        for rule, vi, seed, data in jobs_list:
            if should_stop and should_stop():
                break
            done(rule, vi, seed, run_point(data))
    return {"spec": sw.model_dump(), "points": points, "lines": lines(sw, points),
            "complete": len(points) == len(sw.values) * len(sw.rules), "seconds": time.perf_counter() - start}


def lines(sw: SweepSpec, points: list[dict[str, Any]]) -> dict[str, list[float | None]]:
    """Rule → mean final accuracy at each value of the setting, in ``values`` order (None where not run)."""
    at = {(p["rule"], repr(p["value"])): p["accuracy"]["mean"] for p in points}
    return {rule: [at.get((rule, repr(v))) for v in sw.values] for rule in sw.rules}


__all__ = ["lines", "run_point", "summarise_point", "sweep"]
