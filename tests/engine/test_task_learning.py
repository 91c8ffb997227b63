"""Learning: BPTT solves the default tasks within small budgets (a few hundred updates, well under a minute on CPU).

These pin the task defaults: if a change makes a default task much harder (or unlearnable), they fail.
"""

from __future__ import annotations

import pytest

from engine.spec import RunSpec
from engine.tasks.add import FLOOR_OPTIMAL, FLOOR_T1
from engine.training import StepRecord, Trainer

pytestmark = pytest.mark.slow


def train(task: str, steps: int, lr: float) -> list[StepRecord]:
    optim = {"lr": lr, "schedule": "constant"}  # thresholds measured with a constant step size
    trainer = Trainer(RunSpec(task=task, rule="bptt", steps=steps, batch=32, seed=0, optim=optim))
    records = list(trainer.run())
    assert trainer.status == "done" and len(records) == steps
    return records


def mean(values) -> float:
    values = list(values)
    return sum(values) / len(values)


def test_bptt_solves_dnms():
    records = train("dnms", steps=200, lr=0.01)
    assert mean(r.accuracy for r in records[:5]) < 0.75  # starts near chance (½)
    assert mean(r.accuracy for r in records[-10:]) >= 0.9


def test_bptt_learns_both_lags_of_add():
    """Below FLOOR_T1 (≈ 0.519) the network must use x_{t−t2} as well as x_{t−t1}."""
    records = train("add", steps=200, lr=0.02)
    assert mean(r.loss for r in records[:5]) > FLOOR_T1
    final = mean(r.loss for r in records[-10:])
    assert FLOOR_OPTIMAL - 0.01 < final < 0.50
