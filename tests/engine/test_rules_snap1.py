"""SnAp-1 equals its declared exact construction on every architecture it trains (float64): RTRL with the influence
matrix masked to the immediate pattern after every step; and RTRL itself (= BPTT) when the only recurrence is
self-connections."""

import pytest
import torch

from engine.archs import ARCHS
from engine.rules import RULES
from engine.tasks import TASKS

F64 = torch.float64
ARCH_NAMES = sorted(RULES.get("snap1").supports)


def setup(arch_name: str, task_name: str, seed: int, self_only: bool = False):
    gen = torch.Generator().manual_seed(seed)
    task_cls = TASKS.get(task_name)
    task = task_cls(task_cls.Config(**({"steps": 12, "t1": 2, "t2": 5} if task_name == "add" else {})))
    cls = ARCHS.get(arch_name)
    extra = {"alpha": 0.4} if "alpha" in cls.Config.model_fields else {}
    arch = cls(cls.Config(hidden=5, **extra), task.n_inputs, task.n_outputs, gen, F64)
    n = arch.n_units
    with torch.no_grad():
        for name, p in arch.named_parameters():
            p.add_(0.3 * torch.randn(p.shape, generator=gen, dtype=F64))
            if self_only and name in arch.recurrent_parameters() and p.shape == (n, n):
                p.mul_(torch.eye(n, dtype=F64))  # only self-connections
    return task, arch, task.sample(3, gen).to(F64)


def masked_rtrl(arch, task, trial) -> dict[str, torch.Tensor]:
    """rtrl Eqs. (1)–(3) step by step from ``arch.jacobians``, M kept only where unit k = the weight's row j."""
    params = arch.recurrent_parameters()
    B, n = trial.batch, arch.n_units
    eye = torch.eye(n, dtype=F64)
    pattern = {k: eye.view(n, n, *([1] * (p.dim() - 1))) for k, p in params.items()}
    M = {k: torch.zeros(B, n, *p.shape, dtype=F64) for k, p in params.items()}
    g = {k: torch.zeros_like(p) for k, p in params.items()}
    state = arch.init_state(B)
    with torch.no_grad():
        for t, x_t in enumerate(trial.inputs):
            J, M_bar = arch.jacobians(x_t, state)
            for k in M:
                M[k] = pattern[k] * (torch.einsum("bsr,br...->bs...", J, M[k]) + M_bar[k])
            state = arch(x_t, state)
            c = arch.readout_credit(state, task.output_error(arch.readout(state), trial, t))
            for k in M:
                g[k] += torch.einsum("bs,bs...->...", c, M[k])
    masks = arch.grad_masks()
    return {k: v * masks[k] if k in masks else v for k, v in g.items()}


def snap1(arch, task, trial) -> dict[str, torch.Tensor]:
    cls = RULES.get("snap1")
    return cls(cls.Config(), arch, torch.Generator().manual_seed(0)).gradients(task, trial)[0]


def assert_close(got, want, tol=1e-9):
    for k, w in want.items():
        err = ((got[k] - w).norm() / w.norm().clamp_min(1e-300)).item()
        assert err <= tol, f"{k}: relative error {err:.2e}"


@pytest.mark.parametrize("arch_name", ARCH_NAMES)
@pytest.mark.parametrize("task_name", ["add", "dnms"])
def test_snap1_equals_rtrl_with_the_influence_masked_to_its_pattern(arch_name, task_name):
    task, arch, trial = setup(arch_name, task_name, 11)
    assert_close(snap1(arch, task, trial), masked_rtrl(arch, task, trial))


@pytest.mark.parametrize("arch_name", ARCH_NAMES)
def test_snap1_is_exact_when_the_only_recurrence_is_self_connections(arch_name):
    task, arch, trial = setup(arch_name, "add", 12, self_only=True)
    bptt = RULES.get("bptt")
    true, _ = bptt(bptt.Config(), arch, torch.Generator()).gradients(task, trial)
    got = snap1(arch, task, trial)
    assert_close(got, {k: true[k] for k in arch.recurrent_parameters()}, tol=1e-8)
    # … while with full recurrence it is only an approximation, and not e-prop either
    task, arch, trial = setup(arch_name, "add", 12)
    true, _ = bptt(bptt.Config(), arch, torch.Generator()).gradients(task, trial)
    got = snap1(arch, task, trial)
    eprop = RULES.get("eprop")
    ep, _ = eprop(eprop.Config(), arch, torch.Generator().manual_seed(0)).gradients(task, trial)
    first = next(iter(arch.recurrent_parameters()))
    assert (got[first] - true[first]).norm() > 1e-6 * true[first].norm()
    assert (got[first] - ep[first]).norm() > 1e-6 * ep[first].norm()


@pytest.mark.parametrize("rule, arch, words", [
    ("snap1", "rnn", ["SnAp-1", "limit of 1 MiB", "lower the batch to"]),
    ("rtrl", "gru", ["RTRL", "limit of 1 MiB", "lower the hidden size to"]),
])
def test_too_large_traces_or_influence_are_refused_naming_setting_and_limit(rule, arch, words):
    from engine.spec import RunSpec, SettingError, resolve
    from engine.training import build

    spec = RunSpec(task="add", arch=arch, rule=rule, batch=64, arch_config={"hidden": 64},
                   rule_config={"max_memory_mb": 1})
    with pytest.raises(SettingError) as err:
        build(resolve(spec))
    assert err.value.field == "rule" and all(w in str(err.value) for w in words), str(err.value)
    small = spec.model_copy(update={"batch": 1, "arch_config": {"hidden": 4}})
    build(resolve(small))  # within the limit: built
