"""Node perturbation's mean update points along the true gradient (float64), on every architecture it trains."""

import dataclasses

import pytest
import torch

from engine.archs import ARCHS
from engine.rules import RULES
from engine.tasks import TASKS

F64 = torch.float64


def repeated(trial, copies: int):
    rep = {f.name: getattr(trial, f.name) for f in dataclasses.fields(trial)}
    for k in ("inputs", "targets", "mask"):
        rep[k] = rep[k].repeat_interleave(copies, dim=1)
    rep["labels"] = None
    return type(trial)(**rep)


def cosine(a: dict, b: dict, keys) -> float:
    x = torch.cat([a[k].flatten() for k in keys])
    y = torch.cat([b[k].flatten() for k in keys])
    return (torch.dot(x, y) / (x.norm() * y.norm())).item()


@pytest.mark.parametrize("arch_name", sorted(RULES.get("node_perturbation").supports))
@pytest.mark.parametrize("task_name", ["add", "dnms"])
def test_mean_update_has_positive_cosine_with_the_true_gradient(arch_name, task_name):
    gen = torch.Generator().manual_seed(5)
    task_cls = TASKS.get(task_name)
    task = task_cls(task_cls.Config(**({"steps": 12, "t1": 2, "t2": 5} if task_name == "add" else {})))
    cls = ARCHS.get(arch_name)
    arch = cls(cls.Config(hidden=6), task.n_inputs, task.n_outputs, gen, F64)
    trial = task.sample(1, gen).to(F64)
    bptt = RULES.get("bptt")
    true, _ = bptt(bptt.Config(), arch, torch.Generator()).gradients(task, trial)
    np_cls = RULES.get("node_perturbation")
    rule = np_cls(np_cls.Config(sigma=0.02), arch, torch.Generator().manual_seed(1))
    keys = list(arch.recurrent_parameters())
    mean, _ = rule.gradients(task, repeated(trial, 4000))  # baseline: this batch's mean (the first batch)
    single, _ = np_cls(np_cls.Config(sigma=0.02), arch, torch.Generator().manual_seed(2)).gradients(
        task, repeated(trial, 2))
    c_mean, c_single = cosine(mean, true, keys), cosine(single, true, keys)
    assert c_mean > 0.5, c_mean
    assert c_mean > abs(c_single)  # averaging is what makes it point the right way
    assert not torch.isnan(rule.baseline) and rule.baseline > 0  # Eq. (3) has moved on from NaN
