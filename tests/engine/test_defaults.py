"""Defaults and network settings of issue 6: the initial state is a network setting every rule sees, RFLO's random
feedback has Murray's scale, a task's own network defaults apply to every rule, and one set of run defaults."""

from __future__ import annotations

import pytest
import torch

from engine.spec import RunSpec, resolve
from engine.training import Trainer


def trainer(**spec) -> Trainer:
    return Trainer(RunSpec(**spec))


def test_initial_state_h0_is_used_by_every_rule_and_gradients_stay_exact():
    """With h_0 = 0.3 (rnn Eq. 0) RTRL still equals BPTT in float64, and every rule's forward pass starts there."""
    spec = dict(task="dnms", arch_config={"hidden": 6, "h0": 0.3}, batch=3, seed=1, dtype="float64")
    grads, losses = {}, {}
    for rule in ("bptt", "rtrl", "eprop", "rflo", "readout", "tbptt"):
        t = trainer(rule=rule, **spec)
        assert torch.equal(t.arch.init_state(2).h, torch.full((2, 6), 0.3, dtype=torch.float64))
        trial = t.task.sample(3, torch.Generator().manual_seed(0)).to(torch.float64)
        grads[rule], result = t.rule.gradients(t.task, trial)
        losses[rule] = result.loss.item()
    assert len({round(v, 12) for v in losses.values()}) == 1, losses  # the same network, the same start
    for name, g in grads["bptt"].items():
        assert torch.allclose(grads["rtrl"][name], g, atol=1e-12, rtol=1e-10), name
    zero = trainer(rule="bptt", **{**spec, "arch_config": {"hidden": 6}})
    assert zero.arch.init_state(1).h.abs().max() == 0  # the default start is 0


def test_rflo_feedback_has_variance_one_over_outputs_and_eprop_one_over_units():
    net = {"hidden": 400}
    rflo = trainer(task="path_integration", rule="rflo", arch_config=net).rule.feedback.B
    eprop = trainer(task="path_integration", rule="eprop", rule_config={"feedback": "random"},
                    arch_config=net).rule.feedback.B
    assert rflo.shape == eprop.shape == (400, 2)
    assert rflo.var().item() == pytest.approx(1 / 2, rel=0.15)  # N(0, 1/n_out), Murray 2019
    assert eprop.var().item() == pytest.approx(1 / 400, rel=0.15)  # N(0, 1/n), the scale of W_out


def test_a_task_sets_its_own_network_defaults_for_every_rule_and_a_run_can_override_them():
    assert resolve(RunSpec(task="add")).arch_config.alpha == 0.5
    assert resolve(RunSpec(task="add", rule="eprop")).arch_config.alpha == 0.5
    assert resolve(RunSpec(task="add", arch_config={"alpha": 0.2})).arch_config.alpha == 0.2
    assert resolve(RunSpec(task="dnms")).arch_config.alpha == 0.1


def test_run_defaults_clip_the_gradient_and_report_alignment_every_ten_updates():
    spec = RunSpec()
    assert spec.optim.clip > 0 and spec.alignment_every == 10 and spec.steps == 500
