"""Every architecture that provides unit locals: its closed form equals the torch.func default (float64)."""

import pytest
import torch

from engine.archs import ARCHS
from engine.archs.base import Architecture

F64 = torch.float64
LOCAL = [name for name, cls in ARCHS if "unit_locals" in cls.provides]


def network(name: str, seed: int, **config) -> Architecture:
    cls = ARCHS.get(name)
    gen = torch.Generator().manual_seed(seed)
    arch = cls(cls.Config(hidden=5, **config), 3, 2, gen, F64)
    with torch.no_grad():  # generic parameters: no zero biases hiding a term
        for p in arch.parameters():
            p.add_(0.2 * torch.randn(p.shape, generator=gen, dtype=F64))
    return arch


def configs(name: str) -> list[dict]:
    extra = {"rnn": [{"alpha": 0.3}, {"alpha": 1.0, "nonlinearity": "softplus", "density": 0.6}]}
    return extra.get(name, [{}])


CASES = [(name, c) for name in LOCAL for c in configs(name)]


@pytest.mark.parametrize("name, config", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_closed_form_unit_locals_equal_torch_func(name, config):
    arch = network(name, 1, **config)
    x = torch.randn(4, 2, 3, dtype=F64, generator=torch.Generator().manual_seed(2))
    state = arch.unflatten(0.5 * torch.randn(2, arch.flatten(arch.init_state(1)).shape[-1], dtype=F64))
    got, ref = arch.unit_locals(x, state), Architecture.unit_locals(arch, x, state)
    own = got.own if torch.is_tensor(got.own) else torch.full_like(ref.own, got.own)
    assert torch.allclose(own, ref.own, atol=1e-12) and torch.allclose(got.diag, ref.diag, atol=1e-12)
    assert torch.allclose(arch.flatten(got.state), arch.flatten(ref.state), atol=1e-12)
    dense = {k: b.dense for b in ref.blocks for k in b.columns}
    masks = arch.grad_masks()  # the closed form leaves absent synapses to the rule's mask
    seen = set()
    for block in got.blocks:
        start = 0
        for k, width in block.columns.items():
            for t in range(x.shape[0]):
                mask = masks.get(k, torch.ones(())).reshape(arch.n_units, width) if k in masks else 1.0
                want = dense[k][t].reshape(2, arch.n_units, width)
                assert torch.allclose(block.drive(t)[..., start:start + width] * mask, want, atol=1e-12), (k, t)
            start += width
            seen.add(k)
    assert seen == set(arch.recurrent_parameters())


@pytest.mark.parametrize("name", [n for n, a in ARCHS if "jacobians" in a.provides])
def test_closed_form_jacobians_equal_torch_func(name):
    arch = network(name, 3)
    x = torch.randn(2, 3, dtype=F64, generator=torch.Generator().manual_seed(4))
    prev = arch.unflatten(0.5 * torch.randn(2, arch.flatten(arch.init_state(1)).shape[-1], dtype=F64))
    J, M = arch.jacobians(x, prev)
    J_ref, M_ref = Architecture.jacobians(arch, x, prev)
    assert torch.allclose(J, J_ref, atol=1e-12)
    assert set(M) == set(M_ref) and all(torch.allclose(M[k], M_ref[k], atol=1e-12) for k in M)
    v = torch.randn(2, J.shape[-1], dtype=F64)
    assert torch.allclose(arch.state_jvp(x, prev, v), Architecture.state_jvp(arch, x, prev, v), atol=1e-12)
    assert torch.allclose(arch.state_jvp(x, prev, v), torch.einsum("bij,bj->bi", J, v), atol=1e-12)
