"""Checkpoints: a trainer restored from ``state_dict()`` trains on exactly as the original would (the server parks
an unwatched paused run as a checkpoint and resumes it on Play)."""

from __future__ import annotations

import io
from typing import Any

import pytest
import torch

from engine.spec import RunSpec
from engine.training import Trainer

CASES = [
    ("bptt", {}),
    ("eprop", {}),
    ("eprop", {"feedback": "adaptive"}),
    ("eprop", {"feedback": "random"}),
]


def spec(rule: str, rule_config: dict[str, Any]) -> RunSpec:
    return RunSpec(task="add", task_config={"t1": 2, "t2": 4, "steps": 8}, arch="rnn",
                   arch_config={"hidden": 8}, rule=rule, rule_config=rule_config, batch=4, steps=100,
                   alignment_every=5, optim={"name": "adam", "lr": 0.02})


def through_bytes(state: dict[str, Any]) -> dict[str, Any]:
    """What the server does with a checkpoint: torch.save into bytes, torch.load back."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return torch.load(io.BytesIO(buffer.getvalue()), weights_only=True)  # no pickled code


def losses(trainer: Trainer) -> list[tuple[int, float, float]]:
    return [(r.step, r.loss, r.accuracy) for r in trainer.history]


@pytest.mark.parametrize("rule,config", CASES)
def test_restored_trainer_continues_bit_identically(rule: str, config: dict[str, Any]) -> None:
    original = Trainer(spec(rule, config))
    for _ in range(20):
        original.train_step()
    saved = through_bytes(original.state_dict())
    for _ in range(20):
        original.train_step()

    restored = Trainer(spec(rule, config))
    restored.load_state_dict(saved)
    assert restored.step_count == 20
    for _ in range(20):
        restored.train_step()
    assert losses(restored) == losses(original)  # bit-identical, not close
    assert [r.alignment for r in restored.history] == [r.alignment for r in original.history]
    for (name, a), b in zip(original.arch.state_dict().items(), restored.arch.state_dict().values()):
        assert torch.equal(a, b), name
    if config.get("feedback") in ("adaptive", "random"):
        assert torch.equal(original.rule.feedback.B, restored.rule.feedback.B)


@pytest.mark.parametrize("part", ["trials", "optimizer", "rule"])
def test_every_part_of_the_checkpoint_matters(part: str) -> None:
    """The comparison above can fail: restoring all but one part (from a fresh trainer) changes the losses."""
    original = Trainer(spec("eprop", {"feedback": "adaptive"}))
    for _ in range(20):
        original.train_step()
    state = through_bytes(original.state_dict())
    state[part] = Trainer(spec("eprop", {"feedback": "adaptive"})).state_dict()[part]
    partial = Trainer(spec("eprop", {"feedback": "adaptive"}))
    partial.load_state_dict(state)
    assert [partial.train_step().loss for _ in range(5)] != [original.train_step().loss for _ in range(5)]


def test_learning_rate_and_status_come_back() -> None:
    original = Trainer(spec("bptt", {}))
    original.train_step()
    original.set_lr(0.005)
    original.stop()
    restored = Trainer(spec("bptt", {}))
    restored.load_state_dict(through_bytes(original.state_dict()))
    assert restored.spec.optim.lr == 0.005 and restored.optimizer.param_groups[0]["lr"] == 0.005
    assert restored.status == "stopped" and restored.finished
