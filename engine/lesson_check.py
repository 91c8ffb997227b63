"""Checking a lesson's claims: train the runs they name, once per seed, and judge each claim on each seed.

Runs train in worker processes, one thread each (like ``engine.matrix``). A lesson's *time to effect* on a seed is
how long its runs take on two free cores, from their own CPU seconds c_i (CPU time does not grow when other
processes share the machine, wall time does):

    time to effect = max( max_i c_i , Σ_i c_i / 2 )                                                      (1)

A claim *credits learning* when it says that a run which trains the recurrent weights achieved something (a
learned metric ≥ a bound, or a loss ≤ one). Each such claim must fail when readout-only — a fixed random network
with a trained readout, the trivial rule — replaces the run's rule (:func:`trivial_runs`); ``check_lessons(...,
trivial=True)`` checks exactly that.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from engine.lessons import Claim, Lesson
from engine.spec import parse_spec


def measure(data: dict[str, Any]) -> dict[str, Any]:
    """Train one run and return the metrics a claim can name (:data:`METRICS`) and its wall seconds."""
    import torch

    from engine.training import Trainer

    torch.set_num_threads(1)
    start, cpu = time.perf_counter(), time.process_time()
    trainer = Trainer(parse_spec(data))
    feedback = getattr(trainer.rule, "feedback", None)
    fa_start = feedback.alignment() if feedback is not None and hasattr(feedback, "alignment") else None
    for _ in trainer.run():
        pass
    final = trainer.summary()["final"]
    out = {k: final.get(k) for k in ("accuracy", "loss", "state_bytes", "per_step_bytes", "fixed_bytes",
                                      "ms_per_update", "trial_steps")}
    out["alignment"] = final["alignment"]["recurrent"]
    out["alignment_all"] = final["alignment"]["all"]
    out["feedback_alignment_start"] = fa_start
    out["feedback_alignment"] = feedback.alignment() if fa_start is not None else None
    out["status"] = trainer.status
    out["seconds"] = time.perf_counter() - start
    out["cpu_seconds"] = time.process_time() - cpu
    return out


def _measure_job(job: tuple[str, int, str, dict[str, Any]]) -> tuple[str, int, str, dict[str, Any]]:
    lesson, seed, run, data = job
    return lesson, seed, run, measure(data)


def jobs_for(lesson: Lesson, seeds: list[int], trivial: bool = False) -> list[tuple[str, int, str, dict[str, Any]]]:
    """The runs the claims name, once per seed (the seed replaces the preset's); ``trivial``: only the runs of
    claims that credit learning, with readout-only in their place (:func:`trivial_runs`)."""
    runs = trivial_runs(lesson) if trivial else lesson.runs()
    claims = [c for c in lesson.claims if not trivial or credits_learning(lesson, c)]
    needed = list(dict.fromkeys(r for c in claims for r in c.refs()))
    return [(lesson.name, s, r, {**runs[r], "seed": s}) for s in seeds for r in needed]


def check_lessons(lessons: list[Lesson], seeds: list[int], jobs: int = 1,
                  progress: Callable[[str, int, str, dict[str, Any]], None] | None = None,
                  trivial: bool = False) -> dict[str, Any]:
    """Train every lesson's claimed runs on every seed (``jobs`` worker processes, one thread each) and judge each
    claim on each seed; per lesson and seed also the time to effect (Eq. 1) and the runs' wall seconds.

    ``trivial``: judge only the claims that credit learning, on runs where readout-only replaces each rule; the
    lesson passes when every one of them *fails* on every seed."""
    work = [j for x in lessons for j in jobs_for(x, seeds, trivial)]
    results: dict[tuple[str, int], dict[str, dict[str, Any]]] = {}

    def keep(out: tuple[str, int, str, dict[str, Any]]) -> None:
        results.setdefault((out[0], out[1]), {})[out[2]] = out[3]
        progress and progress(*out)

    if jobs > 1 and len(work) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            for out in pool.map(_measure_job, work):
                keep(out)
    else:
        for job in work:
            keep(_measure_job(job))
    report: dict[str, Any] = {}
    for x in lessons:
        claims = [c for c in x.claims if not trivial or credits_learning(x, c)]
        per_seed = {}
        for s in seeds:
            metrics = results.get((x.name, s), {})
            cpu = [m["cpu_seconds"] for m in metrics.values()]
            judged = [c.judge(metrics) for c in claims]
            if trivial:
                judged = [{**r, "holds": r["pass"], "pass": not r["pass"]} for r in judged]
            per_seed[s] = {"claims": judged,
                           "seconds_two_cores": max(max(cpu, default=0.0), sum(cpu) / 2),
                           "wall_seconds": sum(m["seconds"] for m in metrics.values()), "runs": metrics}
        report[x.name] = {
            "title": x.title, "claims": [str(c) for c in claims], "says": [c.say for c in claims],
            "seeds": per_seed,
            "pass": all(r["pass"] for v in per_seed.values() for r in v["claims"]),
        }
    return report


#: Metrics where a higher value credits the rule with having learned something.
LEARNED = ("accuracy", "alignment", "alignment_all", "feedback_alignment")


def credits_learning(lesson: Lesson, claim: Claim) -> bool:
    """A claim that a run which trains the recurrent weights achieved something: a learned metric ≥ (or >)
    something, or a loss ≤ (or <) something."""
    achieved = (claim.metric in LEARNED and claim.op in (">=", ">")) or (claim.metric == "loss" and claim.op in ("<=", "<"))
    return achieved and lesson.runs()[claim.run].get("rule", "bptt") != "readout"


def trivial_runs(lesson: Lesson) -> dict[str, dict[str, Any]]:
    """The lesson's runs with the trivial rule in place of each one's own: readout-only (a fixed random network and
    a trained readout), same names, same task, network and seed. Every claim that :func:`credits_learning` must
    fail on these — else the claim does not test what the rule learned."""
    return {name: {**{k: v for k, v in data.items() if k != "rule_config"}, "rule": "readout"}
            for name, data in lesson.runs().items()}


__all__ = ["LEARNED", "check_lessons", "credits_learning", "jobs_for", "measure", "trivial_runs"]
