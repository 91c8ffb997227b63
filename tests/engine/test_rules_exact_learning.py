"""Learning with the exact family on the Add task (Marschall et al. 2020): rtrl learns exactly as bptt does, and a
readout-only reservoir stays near the floor of a network that remembers nothing.

Budgets (measured on 2 CPU cores): n = 16 units, batch 16, Adam lr 0.03, the default Add lags (t1 = 5, t2 = 9,
α = 0.5) in trials of 30 steps. BPTT then passes the "first lag learned" floor (0.519) after about 150 updates.
The networks are tiny, so one thread is faster than two (as in the app's workers).
"""

from __future__ import annotations

import pytest

from engine.spec import RunSpec
from engine.tasks.add import FLOOR_NOTHING, FLOOR_T1
from engine.training import Trainer

pytestmark = pytest.mark.slow

UPDATES = 250
TAIL = 20



def losses(rule: str, steps: int, dtype: str = "float32", batch: int = 16) -> list[float]:
    spec = RunSpec(task="add", rule=rule, task_config={"steps": 30, "t1": 5, "t2": 9},
                   arch_config={"hidden": 16, "alpha": 0.5}, batch=batch,
                   steps=steps, seed=0, dtype=dtype, optim={"lr": 0.03})
    trainer = Trainer(spec)
    history = [r.loss for r in trainer.run()]
    assert trainer.status == "done"
    return history


def tail(history: list[float]) -> float:
    return sum(history[-TAIL:]) / TAIL


@pytest.fixture(scope="module")
def bptt_curve() -> list[float]:
    return losses("bptt", UPDATES)


def test_rtrl_follows_bptt_step_by_step_in_float64():
    exact, online = losses("bptt", 30, "float64", batch=8), losses("rtrl", 30, "float64", batch=8)
    assert max(abs(a - b) for a, b in zip(exact, online)) < 1e-6
    assert exact[-1] < exact[0] - 0.02  # the runs did move: agreement is not just two frozen networks


def test_rtrl_learns_add_like_bptt(bptt_curve):
    online = losses("rtrl", UPDATES)
    assert max(abs(a - b) for a, b in zip(bptt_curve[:100], online[:100])) < 1e-3
    assert tail(online) < 0.5 and tail(bptt_curve) < 0.5, (tail(online), tail(bptt_curve))


def test_readout_stays_near_the_floor_while_bptt_learns(bptt_curve):
    reservoir = losses("readout", UPDATES)
    halfway = (FLOOR_NOTHING + FLOOR_T1) / 2  # ≈ 0.59: below it the first lag has been learned
    assert tail(reservoir) > halfway, tail(reservoir)
    assert tail(bptt_curve) < halfway - 0.08, tail(bptt_curve)
