"""Alignment measures the credit that reaches the network (metrics Eqs. 1–3): the record leads with the cosine over
the recurrent parameters, readout-only (which assigns the network no credit) has none, an exact rule has 1 there,
and an approximate rule's overall cosine is flattered by the exact readout gradient."""

from __future__ import annotations

import pytest
import torch

from engine.metrics import alignment
from engine.spec import RunSpec
from engine.training import Trainer

# Explicit settings (not the defaults, which another change may tune): DNMS early in training.
DNMS = dict(task="dnms", task_config={"delay": 10, "classes": 2, "noise": 0.1}, batch=32, seed=0,
            arch_config={"hidden": 32, "alpha": 0.5}, optim={"name": "adam", "lr": 0.01, "clip": 0.0})


def records(rule: str, steps: int, **extra) -> list:
    t = Trainer(RunSpec(rule=rule, steps=steps, alignment_every=1, **{**DNMS, **extra}))
    return list(t.run())


def test_record_order_recurrent_all_then_tensors():
    rg = {"W_rec": torch.ones(2, 2), "b": torch.zeros(2), "W_out": torch.ones(1, 2)}
    tg = {"W_rec": torch.ones(2, 2), "b": torch.ones(2), "W_out": -torch.ones(1, 2)}
    a = alignment(rg, tg, recurrent=["W_rec", "b"])
    assert list(a) == ["recurrent", "all", "W_rec", "b", "W_out"]
    assert a["recurrent"] == pytest.approx(4 / (2 * 6 ** 0.5))  # ⟨ĝ_R, g_R⟩ = 4, ‖ĝ_R‖ = 2, ‖g_R‖ = √6
    assert a["all"] == pytest.approx(2 / (6 ** 0.5 * 8 ** 0.5))
    assert a["b"] is None and a["W_out"] == pytest.approx(-1.0)
    readout_only = alignment({"W_out": torch.ones(1, 2)}, tg, recurrent=["W_rec", "b"])
    assert readout_only["recurrent"] is None and readout_only["all"] is not None


def test_readout_only_assigns_no_credit_to_the_network():
    recs = records("readout", 3)
    assert all(r.alignment["recurrent"] is None for r in recs)
    assert all(r.alignment["all"] is not None for r in recs)  # its exact readout gradient still scores
    assert list(recs[0].alignment)[:2] == ["recurrent", "all"]


ADD = dict(task="add", task_config={"t1": 2, "t2": 5, "steps": 40}, batch=32, seed=0,
           arch_config={"hidden": 32, "alpha": 0.5}, optim={"name": "adam", "lr": 0.01, "clip": 0.0})


def test_eprop_recurrent_is_below_all_when_the_readout_gradient_is_large():
    t = Trainer(RunSpec(rule="eprop", steps=6, **ADD))
    batches = torch.Generator().manual_seed(7)
    for _ in range(6):  # early training: the readout gradient is larger than the network's
        trial = t.task.sample(t.spec.batch, batches)
        true, _ = t.oracle.gradients(t.task, trial)
        computed, _ = t.rule.gradients(t.task, trial)
        readout = torch.cat([true[k].flatten() for k in ("W_out", "b_out")]).norm()
        network = torch.cat([true[k].flatten() for k in ("W_rec", "W_in", "b")]).norm()
        assert readout > network
        a = alignment(computed, true, t.arch.recurrent_parameters())
        assert a["recurrent"] < a["all"] - 0.03
        assert a["W_out"] == pytest.approx(1.0, abs=1e-5)  # the readout is exact: it flatters "all"
        t.train_step()


def test_rtrl_recurrent_alignment_is_one():
    recs = records("rtrl", 3, dtype="float64", arch_config={"hidden": 8, "alpha": 0.5}, batch=4)
    for r in recs:
        assert r.alignment["recurrent"] == pytest.approx(1.0, abs=1e-6)
        assert r.alignment["all"] == pytest.approx(1.0, abs=1e-6)
