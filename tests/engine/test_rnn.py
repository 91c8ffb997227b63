"""The leaky rate RNN: its equations by hand, its closed-form local derivatives, seeding and the density mask."""

from __future__ import annotations

import math

import pytest
import torch

from engine.archs.base import Architecture
from engine.archs.rnn import RNN, RNNConfig, RNNState
from engine.spec import RunSpec
from engine.training import Trainer

F64 = torch.float64
CONFIGS = [
    dict(hidden=5, alpha=1.0),
    dict(hidden=6, alpha=0.4, density=0.5, gain=1.7),
    dict(hidden=4, alpha=0.8, nonlinearity="softplus", init="orthogonal"),
    dict(hidden=5, alpha=0.6, nonlinearity="relu", density=0.7),
]
PHI = {"tanh": math.tanh, "relu": lambda u: max(u, 0.0), "softplus": lambda u: math.log1p(math.exp(u))}


def random_net(config: dict, seed: int, n_inputs: int = 3, n_outputs: int = 2) -> tuple[RNN, torch.Generator]:
    gen = torch.Generator().manual_seed(seed)
    net = RNN(RNNConfig(**config), n_inputs, n_outputs, gen, dtype=F64)
    with torch.no_grad():
        net.b.normal_(0.0, 0.5, generator=gen)
        net.b_out.normal_(0.0, 0.5, generator=gen)
    return net, gen


@pytest.mark.parametrize("config", CONFIGS)
def test_forward_matches_equations_by_hand(config):
    net, gen = random_net(config, 4)
    B, n, I = 2, net.n_units, net.n_inputs
    h = torch.randn(B, n, generator=gen, dtype=F64)
    x = torch.randn(B, I, generator=gen, dtype=F64)
    W, M, U = net.W_rec.tolist(), net.rec_mask.tolist(), net.W_in.tolist()
    a, phi = config["alpha"], PHI[config.get("nonlinearity", "tanh")]
    new = net(x, RNNState(h)).h
    y = net.readout(RNNState(new))
    for b in range(B):
        for i in range(n):
            u = sum(W[i][j] * M[i][j] * h[b, j].item() for j in range(n))  # Eq. (1)
            u += sum(U[i][k] * x[b, k].item() for k in range(I)) + net.b[i].item()
            assert new[b, i].item() == pytest.approx((1 - a) * h[b, i].item() + a * phi(u), abs=1e-12)  # Eq. (2)
        for o in range(net.n_outputs):
            want = sum(net.W_out[o, j].item() * new[b, j].item() for j in range(n)) + net.b_out[o].item()
            assert y[b, o].item() == pytest.approx(want, abs=1e-12)  # Eq. (3)


@pytest.mark.parametrize("config", CONFIGS)
def test_closed_form_jacobians_equal_torch_func(config):
    net, gen = random_net(config, 7)
    B = 3
    prev = RNNState(torch.randn(B, net.n_units, generator=gen, dtype=F64))
    x = torch.randn(B, net.n_inputs, generator=gen, dtype=F64)
    J, M = net.jacobians(x, prev)
    J_ref, M_ref = Architecture.jacobians(net, x, prev)
    assert J.shape == (B, net.n_units, net.n_units)
    assert torch.allclose(J, J_ref, rtol=0, atol=1e-12)
    assert set(M) == set(M_ref) == set(net.recurrent_parameters())
    for k in M_ref:
        assert M[k].shape == M_ref[k].shape == (B, net.n_units, *getattr(net, k).shape), k
        assert torch.allclose(M[k], M_ref[k], rtol=0, atol=1e-12), k


def test_same_seed_gives_same_weights():
    config = CONFIGS[1]
    a, _ = random_net(config, 11)
    b, _ = random_net(config, 11)
    c, _ = random_net(config, 12)
    for k, p in a.named_parameters():
        assert torch.equal(p, dict(b.named_parameters())[k]), k
    assert torch.equal(a.rec_mask, b.rec_mask)
    assert not torch.equal(a.W_rec, c.W_rec)


def test_absent_synapses_stay_absent_under_training():
    spec = RunSpec(task="add", rule="bptt", batch=8, steps=15, seed=2, optim={"lr": 0.05},
                   arch_config={"hidden": 12, "density": 0.4})
    trainer = Trainer(spec)
    mask = trainer.arch.rec_mask.bool()
    assert 0 < mask.sum() < mask.numel()
    before = trainer.arch.W_rec.detach().clone()
    assert (before[~mask] == 0).all()
    list(trainer.run())
    after = trainer.arch.W_rec.detach()
    assert (after[~mask] == 0).all()
    assert (after[mask] != before[mask]).float().mean() > 0.9  # the synapses that exist did learn
