"""W_rec is shown as it acts (``Architecture.recurrent_weights(W)``: the sparsity mask, and Dale's signs where
W_rec holds magnitudes), now and at the start in the same form, without touching the parameters: the shown
matrices equal what the former swap (copy the initial weights into the parameter, map, copy back) produced."""

import pytest
import torch

from engine.spec import RunSpec
from engine.training import Trainer

CASES = {
    "rnn, Dale, sparse": dict(task="dnms", arch="rnn", rule="bptt",
                              arch_config={"hidden": 12, "dale": True, "density": 0.5}),
    "lif, Dale, sparse": dict(task="evidence_accumulation", arch="lif", rule="eprop_lif",
                              arch_config={"hidden": 12, "dale": True, "density": 0.5}),
    "lif": dict(task="evidence_accumulation", arch="lif", rule="eprop_lif", arch_config={"hidden": 12}),
}


def trained(case: str) -> Trainer:
    t = Trainer(RunSpec(**CASES[case], batch=2, steps=3, seed=1))
    for _ in range(3):
        t.train_step()
    return t


@torch.no_grad()
def swapped(t: Trainer) -> tuple[torch.Tensor, torch.Tensor]:
    """The former Trainer._shown for W_rec: the initial weights swapped into the parameter and back."""
    p = t.arch.W_rec
    now = p.detach().clone()
    p.copy_(t.initial["W_rec"])
    first = t.arch.recurrent_weights().detach().clone()
    p.copy_(now)
    return t.arch.recurrent_weights().detach(), first


@pytest.mark.parametrize("case", CASES)
def test_the_shown_w_rec_equals_the_former_swap_and_the_parameters_are_only_read(case: str) -> None:
    t = trained(case)
    before = {k: p.detach().clone() for k, p in t.arch.named_parameters()}
    now, first = t._shown("W_rec")
    assert all(torch.equal(p, before[k]) for k, p in t.arch.named_parameters())  # bitwise unchanged
    old_now, old_first = swapped(t)
    assert torch.equal(now, old_now) and torch.equal(first, old_first)
    assert not torch.equal(now, first)  # it learned something: the change is not all zero
    assert torch.equal(t.arch.recurrent_weights(t.initial["W_rec"]), old_first)
    snap = t.snapshot()["weights"]
    assert (snap["W_rec"] == old_now.float().numpy()).all()
    assert (snap["W_rec_change"] == (old_now - old_first).float().numpy()).all()
    if CASES[case]["arch_config"].get("dale"):
        assert (snap["W_rec"] < 0).any() and (snap["W_rec"] > 0).any()  # signed as it acts
    assert all(torch.equal(p, before[k]) for k, p in t.arch.named_parameters())


def test_other_matrices_and_a_gru_are_shown_as_they_are() -> None:
    t = Trainer(RunSpec(task="dnms", arch="gru", rule="bptt", arch_config={"hidden": 6}, batch=2, steps=2))
    t.train_step()
    for name in t.arch.weight_names():
        now, first = t._shown(name)
        assert now is getattr(t.arch, name) and first is t.initial[name]
