"""The step-size schedule (training Eq. 1): constant, or a cosine decay over the run that the optimizer really uses."""

from __future__ import annotations

import math

import pytest

from engine.spec import RunSpec
from engine.training import Trainer

SMALL = {"task": "add", "task_config": {"t1": 2, "t2": 3, "steps": 8}, "arch_config": {"hidden": 8}, "batch": 4,
         "alignment_every": 0}


def _trainer(**optim) -> Trainer:
    return Trainer(RunSpec.model_validate({**SMALL, "steps": 20, "optim": {"lr": 0.02, **optim}}))


def test_cosine_is_the_default_and_decays_from_lr_to_its_final_fraction():
    t = _trainer()
    assert t.spec.optim.schedule == "cosine"
    lrs = [t.lr_at(k) for k in range(21)]
    assert lrs[0] == pytest.approx(0.02) and lrs[-1] == pytest.approx(0.002)
    assert lrs[10] == pytest.approx(0.02 * (0.1 + 0.9 * 0.5))
    assert all(a >= b for a, b in zip(lrs, lrs[1:]))


def test_the_optimizer_steps_with_the_scheduled_size():
    t = _trainer()
    seen = []
    for _ in range(20):
        t.train_step()
        seen.append(t.optimizer.param_groups[0]["lr"])
    assert seen == pytest.approx([t.lr_at(k) for k in range(20)])
    constant = _trainer(schedule="constant")
    for _ in range(5):
        constant.train_step()
    assert constant.optimizer.param_groups[0]["lr"] == 0.02


def test_a_live_learning_rate_change_scales_the_rest_of_the_schedule():
    t = _trainer(final_fraction=0.0)
    for _ in range(10):
        t.train_step()
    t.set_lr(0.04)
    t.train_step()
    assert t.optimizer.param_groups[0]["lr"] == pytest.approx(0.04 * 0.5 * (1 + math.cos(math.pi * 10 / 20)))
