"""MDGL on `lif` (engine.rules.mdgl) in float64: with exact weights it equals its own autograd construction (the
two-step truncation); with cell-type averages it is the same construction with the averages in place of W."""

import pytest
import torch

from engine.rules import RULES
from test_lif_eprop import assert_close, make, unroll

DALE = {"adaptive_fraction": 0.5, "dale": True, "density": 0.6}


def mdgl(arch, **cfg):
    cls = RULES.get("mdgl")
    return cls(cls.Config(**cfg), arch, torch.Generator().manual_seed(1))


def two_step(task, arch, trial, W_mod):
    """Autograd of the task loss on e-prop's graph (spikes through W detached) plus, at every step, one path
    z_{t−1} → v_t → z_t → readout through the matrix W_mod; returns the gradients of W_rec and W_in."""
    def extra(t, prev, s):
        v = s.v.detach() + (prev.z - prev.z.detach()) @ W_mod.T  # value v_t, derivative through z_{t−1}
        z = arch.fire(v, (arch.config.v_th + arch.beta * s.a).detach(), prev.r)
        return z - z.detach()

    y, Z = unroll(arch, trial, recurrent=lambda t, z: z.detach(), extra=extra)
    loss = task.loss(y, trial) + (arch.rate_penalty(Z) if arch.config.rate_reg else 0)
    return dict(zip(("W_rec", "W_in"), torch.autograd.grad(loss, [arch.W_rec, arch.W_in])))


@pytest.mark.parametrize("cfg", [DALE, {**DALE, "rate_reg": 20.0}, {"adaptive_fraction": 1.0}])
def test_mdgl_with_exact_weights_is_the_two_step_truncation(cfg):
    task, arch, trial = make(cfg)
    rule = mdgl(arch, weights="exact")
    got, _ = rule.gradients(task, trial)
    assert_close(got, two_step(task, arch, trial, arch.recurrent_weights()))


@pytest.mark.parametrize("cfg", [DALE, {**DALE, "rate_reg": 20.0}])
def test_mdgl_differs_from_the_exact_truncation_only_by_the_cell_type_averages(cfg):
    task, arch, trial = make(cfg)
    rule = mdgl(arch)
    W = arch.recurrent_weights().detach()
    avg = rule.modulatory_weights(W)
    exc = arch.sign > 0
    assert torch.all(avg[:, exc][arch.rec_mask[:, exc] > 0] > 0) and torch.all(avg[:, ~exc][arch.rec_mask[:, ~exc] > 0] < 0)
    assert len(avg[arch.rec_mask > 0].unique()) == 4  # E→E, E→I, I→E, I→I
    assert torch.all(avg[arch.rec_mask == 0] == 0)
    got, _ = rule.gradients(task, trial)
    assert_close(got, two_step(task, arch, trial, avg))
    exact, _ = mdgl(arch, weights="exact").gradients(task, trial)
    eprop_cls = RULES.get("eprop_lif")
    eprop, _ = eprop_cls(eprop_cls.Config(feedback="symmetric"), arch, torch.Generator()).gradients(task, trial)
    for k in ("W_out", "b_out"):
        assert torch.allclose(got[k], eprop[k])
    assert not torch.allclose(got["W_rec"], exact["W_rec"]) and not torch.allclose(got["W_rec"], eprop["W_rec"])


def test_mdgl_is_closer_to_bptt_than_eprop_on_average():
    cos = torch.nn.functional.cosine_similarity
    wins = 0
    for seed in range(6):
        task, arch, trial = make({**DALE, "beta": 1.7, "v_th": 0.6, "tau_a": 2000.0}, batch=8, seed=seed)
        bptt = RULES.get("bptt")
        true, _ = bptt(bptt.Config(), arch, torch.Generator()).gradients(task, trial)
        g_m, _ = mdgl(arch, weights="exact").gradients(task, trial)
        eprop_cls = RULES.get("eprop_lif")
        g_e, _ = eprop_cls(eprop_cls.Config(feedback="symmetric"), arch, torch.Generator()).gradients(task, trial)
        c_m = cos(g_m["W_rec"].flatten(), true["W_rec"].flatten(), 0)
        c_e = cos(g_e["W_rec"].flatten(), true["W_rec"].flatten(), 0)
        wins += int(c_m > c_e)
    assert wins >= 4


@pytest.mark.parametrize("name, weights", [("eprop_lif", None), ("mdgl", "cell_type"), ("mdgl", "exact")])
def test_the_shown_synapses_credit_sums_to_the_rules_update(name, weights):
    """What the page draws for a synapse (signal × trace, summed over the trial) is the rule's own gradient of that
    synapse: for MDGL it includes the modulatory term, which e-prop's view would leave out."""
    task, arch, trial = make({"adaptive_fraction": 0.5}, batch=1)
    cls = RULES.get(name)
    cfg = {"feedback": "symmetric", **({"weights": weights} if name == "mdgl" else {})}
    rule = cls(cls.Config(**cfg), arch, torch.Generator().manual_seed(1))
    grads, _ = rule.gradients(task, trial)
    signals = rule.signals(task, trial)
    rows, cols = rule.shown
    drawn = (signals["learning_signal"] * signals["eligibility_trace"]).sum(0)
    assert torch.allclose(drawn, grads["W_rec"][rows, cols], rtol=1e-10, atol=1e-13), (drawn, grads["W_rec"][rows, cols])
    if name == "mdgl":  # and the modulatory term is really there: e-prop's view of the same synapses differs
        eprop = RULES.get("eprop_lif")(RULES.get("eprop_lif").Config(feedback="symmetric"), arch,
                                       torch.Generator().manual_seed(1))
        eprop.shown = rule.shown
        e = eprop.signals(task, trial)
        assert not torch.allclose((e["learning_signal"] * e["eligibility_trace"]).sum(0), drawn, rtol=1e-6)
