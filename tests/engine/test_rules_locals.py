"""e-prop and RFLO, written against the unit locals, on every architecture that provides them (float64): with
symmetric feedback each equals autograd through the trial with the recurrent input detached (archs.base Eq. 4)."""

import pytest
import torch

from engine.archs import ARCHS
from engine.rules import RULES
from engine.rules.traces import EligibilityRule
from engine.tasks import TASKS

F64 = torch.float64
LOCAL = [name for name, cls in ARCHS if "unit_locals" in cls.provides]
#: The e-prop family: eligibility rules whose traces are filtered by the own-state Jacobian (SnAp-1 has its own test).
TRACE_RULES = [name for name, cls in RULES if issubclass(cls, EligibilityRule) and cls.trace_filter == "own"]


def setup(arch_name: str, task_name: str, seed: int):
    gen = torch.Generator().manual_seed(seed)
    task_cls = TASKS.get(task_name)
    task = task_cls(task_cls.Config(**({"steps": 14, "t1": 2, "t2": 5} if task_name == "add" else {})))
    cls = ARCHS.get(arch_name)
    extra = {"alpha": 0.4} if "alpha" in cls.Config.model_fields else {}
    arch = cls(cls.Config(hidden=6, **extra), task.n_inputs, task.n_outputs, gen, F64)
    with torch.no_grad():
        for p in arch.parameters():
            p.add_(0.2 * torch.randn(p.shape, generator=gen, dtype=F64))
    return task, arch, task.sample(3, gen).to(F64)


def detached_recurrent_input(arch, task, trial) -> dict[str, torch.Tensor]:
    """The oracle: every step with the recurrent input a(s_{t−1}) detached, the own-state path kept."""
    params = dict(arch.named_parameters())
    state, ys = arch.init_state(trial.batch), []
    for x_t in trial.inputs:
        state = arch(x_t, state, presyn=arch.activity(state).detach())
        ys.append(arch.readout(state))
    loss = task.loss(torch.stack(ys), trial)
    return dict(zip(params, torch.autograd.grad(loss, list(params.values()))))


CASES = [(a, r, t) for a in LOCAL for r in TRACE_RULES for t in ("add", "dnms")]


@pytest.mark.parametrize("arch_name, rule_name, task_name", CASES, ids=["-".join(c) for c in CASES])
def test_trace_rule_equals_autograd_with_the_recurrent_input_detached(arch_name, rule_name, task_name):
    task, arch, trial = setup(arch_name, task_name, 7)
    want = detached_recurrent_input(arch, task, trial)
    masks = arch.grad_masks()
    cls = RULES.get(rule_name)
    for impl in ("chunked", "stepwise"):
        rule = cls(cls.Config(feedback="symmetric", impl=impl, chunk=5), arch, torch.Generator().manual_seed(0))
        got, _ = rule.gradients(task, trial)
        for k, g in want.items():
            g = g * masks[k] if k in masks else g
            assert torch.allclose(got[k], g, atol=1e-10, rtol=1e-8), (impl, k, (got[k] - g).abs().max())


@pytest.mark.parametrize("arch_name", LOCAL)
def test_signals_show_traces_on_every_architecture(arch_name):
    task, arch, trial = setup(arch_name, "add", 1)
    rule = RULES.get("eprop")(RULES.get("eprop").Config(), arch, torch.Generator().manual_seed(0))
    sig = rule.signals(task, trial)
    assert sig["eligibility_trace"].shape[0] == trial.steps and torch.isfinite(sig["eligibility_trace"]).all()
