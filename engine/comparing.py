"""Training a comparison: its members side by side, on the same trials from the same initial weights.

The members of a :class:`~engine.compare.ComparisonSpec` share the base's task and seed, so every member's trial
generator yields the same trials and members with the same architecture settings are built from the same initial
weights (``engine.training.derived_generator``: one stream per purpose, whatever the rule). :func:`fingerprints`
says so per member, and :func:`compare` records it.

**Lock-step** (the default): update k of every member is done before update k+1 of any, so at every moment the
members have made the same number of updates (a member that finishes or diverges early simply stops). Off, each
member trains to its end in turn.

The table ranks the members. With a_k the accuracy of update k and a window of w = 10 updates,

    reached(target) = min { k ≥ w : (1/w) Σ_{j=k−w+1..k} a_j ≥ target }          (updates to reach it)     (1)
    seconds(target) = Σ_{j ≤ reached} ms_j / 1000      (the rule's own time per update, as ms/update counts it)  (2)
    final           = late mean of a over the last 10 % of updates (engine.training.late_mean)               (3)

and the **winner** is, among the members whose final accuracy (3) is within ``TIE`` of the best, the one that
reached the target in the fewest updates (1) (never reaching it counts as infinitely many), then the lowest final
loss. State bytes and ms per update come from the run's cost figures (``Trainer.cost``).
"""

from __future__ import annotations

import hashlib
import math
from typing import Any, Callable

import torch

from engine.compare import ComparisonSpec, member_specs
from engine.training import StepRecord, Trainer, late_mean

#: Members whose final accuracy is within this of the best tie on accuracy; the faster learner wins.
TIE = 0.02
#: Window (updates) of the running mean accuracy in Eq. (1).
WINDOW = 10


def member_label(overrides: dict[str, Any], base: dict[str, Any]) -> str:
    """A short name for a member: its rule, then its other overrides (``eprop task.delay=40``)."""
    rule = overrides.get("rule", base.get("rule", "bptt"))
    rest = [f"{k}={v}" for k, v in overrides.items() if k != "rule"]
    return " ".join([str(rule), *rest])


def labels(cmp: ComparisonSpec) -> list[str]:
    """One label per member, made unique with a ``#i`` suffix where two members would read the same."""
    names = [member_label(m, cmp.base) for m in cmp.members]
    return [f"{n} #{i + 1}" if names.count(n) > 1 else n for i, n in enumerate(names)]


def _digest(tensors: list[torch.Tensor]) -> str:
    h = hashlib.sha256()
    for t in tensors:
        h.update(t.detach().to(torch.float64).cpu().numpy().tobytes())
    return h.hexdigest()[:16]


def fingerprints(trainer: Trainer) -> dict[str, str]:
    """Digests of a fresh trainer's initial weights and of its first trial (drawn from a copy of its trial
    generator, so training is not disturbed): equal digests mean equal weights / trials."""
    weights = _digest([trainer.initial[k] for k in sorted(trainer.initial)])
    gen = torch.Generator().manual_seed(0)
    gen.set_state(trainer.trials.get_state())
    trial = trainer.task.sample(trainer.spec.batch, gen)
    return {"weights": weights, "trials": _digest([trial.inputs, trial.targets, trial.mask])}


def reached(history: list[StepRecord] | list[dict[str, Any]], target: float) -> int | None:
    """Eq. (1): the first update at which the mean accuracy of the last ``WINDOW`` updates is at least
    ``target``; None if it never is."""
    acc = [r["accuracy"] if isinstance(r, dict) else r.accuracy for r in history]
    total = 0.0
    for k, a in enumerate(acc):
        total += a if a is not None and math.isfinite(a) else 0.0
        if k >= WINDOW:
            b = acc[k - WINDOW]
            total -= b if b is not None and math.isfinite(b) else 0.0
        if k + 1 >= WINDOW and total / WINDOW >= target:
            return k + 1
    return None


def table_row(label: str, history: list[dict[str, Any]], cost: dict[str, Any], target: float,
              status: str) -> dict[str, Any]:
    """One member's row: updates and seconds to reach ``target`` (Eqs. 1–2), final accuracy and loss (Eq. 3),
    state bytes and ms per update. The alignment measurement (BPTT's gradient on the side) is not the rule's cost
    and does not count: records' ``ms`` leave it out."""
    k = reached(history, target)
    seconds = sum(r["ms"] for r in history[:k]) / 1000 if k else None
    return {"label": label, "status": status, "updates": len(history), "target": target,
            "updates_to_target": k, "seconds_to_target": seconds,
            "final_accuracy": late_mean(history, "accuracy"), "final_loss": late_mean(history, "loss"),
            "state_bytes": cost.get("state_bytes"), "ms_per_update": cost.get("ms_per_update")}


def winner(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The winning row and why (see the module docstring), or None when no member has a final accuracy."""
    scored = [r for r in rows if r["final_accuracy"] is not None]
    if not scored:
        return None
    best = max(r["final_accuracy"] for r in scored)
    close = [r for r in scored if r["final_accuracy"] >= best - TIE]

    def key(r: dict[str, Any]) -> tuple[float, float]:
        k = r["updates_to_target"]
        loss = r["final_loss"]
        return (math.inf if k is None else k, math.inf if loss is None else loss)

    win = min(close, key=key)
    why = f"final accuracy {win['final_accuracy']:.3f}"
    if len(close) > 1:
        others = ", ".join(r["label"] for r in close if r is not win)
        why += f" (within {TIE} of {others}); reached {win['target']:g} "
        why += f"in {win['updates_to_target']} updates" if win["updates_to_target"] else "never, like the others"
    return {"label": win["label"], "why": why}


class Comparison:
    """The members' trainers and the wall time of their updates; :meth:`step` advances them, :meth:`result`
    summarises. Lock-step or not is the caller's schedule: :func:`compare` drives it from the spec."""

    def __init__(self, cmp: ComparisonSpec, target: float = 0.9):
        self.spec, self.target = cmp, target
        self.labels = labels(cmp)
        self.trainers = [Trainer(s) for s in member_specs(cmp)]
        self.prints = [fingerprints(t) for t in self.trainers]

    @property
    def finished(self) -> bool:
        return all(t.finished for t in self.trainers)

    def step(self, i: int) -> StepRecord | None:
        """One update of member ``i`` (None if it has finished)."""
        t = self.trainers[i]
        return None if t.finished else t.train_step()

    def result(self) -> dict[str, Any]:
        """Per member: label, overrides, fingerprints, summary (config, history, final); the table and the
        winner; which members share weights and trials."""
        members, rows = [], []
        for i, t in enumerate(self.trainers):
            summary = t.summary()
            members.append({"label": self.labels[i], "overrides": self.spec.members[i], "fingerprints": self.prints[i],
                            **summary})
            rows.append(table_row(self.labels[i], summary["history"], summary["final"], self.target,
                                  summary["final"]["status"]))
        return {"spec": self.spec.model_dump(), "target": self.target, "members": members, "table": rows,
                "winner": winner(rows), "shared_trials": len({p["trials"] for p in self.prints}) == 1}


def compare(cmp: ComparisonSpec, target: float = 0.9,
            progress: Callable[[int, int, StepRecord], None] | None = None) -> dict[str, Any]:
    """Train every member (lock-step per ``cmp.lockstep``) and return :meth:`Comparison.result`.
    ``progress(member, step, record)`` is called after each update."""
    c = Comparison(cmp, target)

    def one(i: int) -> None:
        record = c.step(i)
        if record is not None and progress is not None:
            progress(i, record.step, record)

    if cmp.lockstep:
        while not c.finished:
            for i in range(len(c.trainers)):
                one(i)
    else:
        for i, t in enumerate(c.trainers):
            while not t.finished:
                one(i)
    return c.result()


__all__ = ["Comparison", "TIE", "WINDOW", "compare", "fingerprints", "labels", "member_label", "reached",
           "table_row", "winner"]
