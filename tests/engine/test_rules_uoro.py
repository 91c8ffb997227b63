"""UORO is unbiased: its gradient averaged over many draws of its random signs approaches RTRL's (float64), on every
architecture it trains."""

import dataclasses

import pytest
import torch

from engine.archs import ARCHS
from engine.rules import RULES
from engine.tasks import TASKS

F64 = torch.float64
GROUPS, PER_GROUP = 24, 200  # 4800 draws


def setup(arch_name: str, seed: int):
    gen = torch.Generator().manual_seed(seed)
    task_cls = TASKS.get("add")
    task = task_cls(task_cls.Config(steps=8, t1=1, t2=3))
    cls = ARCHS.get(arch_name)
    extra = {"alpha": 0.5} if "alpha" in cls.Config.model_fields else {}
    arch = cls(cls.Config(hidden=3, **extra), task.n_inputs, task.n_outputs, gen, F64)
    with torch.no_grad():
        for p in arch.parameters():
            p.add_(0.3 * torch.randn(p.shape, generator=gen, dtype=F64))
    return task, arch, task.sample(1, gen).to(F64)


def repeated(trial, copies: int):
    """The same trial ``copies`` times as one batch (each copy gets its own draws of ν)."""
    rep = {f.name: getattr(trial, f.name) for f in dataclasses.fields(trial)}
    for k in ("inputs", "targets", "mask"):
        rep[k] = rep[k].repeat_interleave(copies, dim=1)
    if rep.get("labels") is not None:
        rep["labels"] = rep["labels"].repeat_interleave(copies, dim=0 if rep["labels"].dim() == 1 else 1)
    return type(trial)(**rep)


@pytest.mark.parametrize("arch_name", sorted(RULES.get("uoro").supports))
def test_uoro_averaged_over_draws_approaches_rtrl(arch_name):
    """The mean of N draws differs from RTRL by sampling noise only: with the standard error estimated from
    GROUPS group means, E‖ḡ − g‖² = Σ SE², and the test allows ‖ḡ − g‖ ≤ 3·√(Σ SE²) — a single draw is far off."""
    task, arch, trial = setup(arch_name, 3)
    rtrl = RULES.get("rtrl")
    true, _ = rtrl(rtrl.Config(), arch, torch.Generator()).gradients(task, trial)
    cls = RULES.get("uoro")
    rule = cls(cls.Config(chunk=5), arch, torch.Generator().manual_seed(9))
    means = []
    for _ in range(GROUPS):
        g, _ = rule.gradients(task, repeated(trial, PER_GROUP))  # loss is a mean over the batch: g is the mean
        means.append(torch.cat([g[k].flatten() for k in arch.recurrent_parameters()]))
    means = torch.stack(means)
    want = torch.cat([true[k].flatten() for k in arch.recurrent_parameters()])
    mean = means.mean(0)
    se2 = (means.var(0) / GROUPS).sum()
    err = (mean - want).norm()
    assert err <= 3 * se2.sqrt(), (err.item(), se2.sqrt().item())
    single = (means[0] - want).norm() * PER_GROUP ** 0.5  # about one draw's error
    assert err < 0.2 * single and err < 0.3 * want.norm(), (err.item(), single.item(), want.norm().item())
    cos = torch.dot(mean, want) / (mean.norm() * want.norm())
    assert cos > 0.9, cos.item()
