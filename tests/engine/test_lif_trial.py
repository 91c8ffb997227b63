"""The whole-trial autograd node of ``lif`` (engine.archs.lif_trial) gives the numbers of autograd on the step-by-step
unroll: the same spikes bit for bit and, in float64, the same gradients to 1e-12, for every option that changes the
adjoint recursion (adaptive fraction, refractory period, Dale's law, sparse wiring, the rate regulariser, inputs)."""

from __future__ import annotations

import pytest
import torch

from engine.archs.lif import LIF, LIFConfig
from engine.tasks import TASKS

CASES = {
    "lsnn": {},
    "dale_sparse_reg": {"dale": True, "density": 0.5, "rate_reg": 1.0, "adaptive_fraction": 0.3},
    "lif_no_refractory_current": {"refractory": 0.0, "adaptive_fraction": 0.0, "rate_reg": 0.5, "input": "current"},
    "all_alif_long_refractory": {"adaptive_fraction": 1.0, "refractory": 15.0},
}


def network(case: str, dtype: torch.dtype = torch.float64):
    task_cls = TASKS.get("evidence_accumulation")
    task = task_cls(task_cls.Config(cues=3, delay=4))
    arch = LIF(LIFConfig(hidden=24, dt=5.0, rec_scale=2.0, input_scale=3.0, **CASES[case]), task.n_inputs,
               task.n_outputs, torch.Generator().manual_seed(0), dtype=dtype)
    return arch, task.sample(6, torch.Generator().manual_seed(1)).inputs.to(dtype)


def gradients(arch: LIF, run, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    arch.zero_grad()
    activity, outputs = run(x)
    (outputs.sin().sum() + activity.cos().sum()).backward()  # upstream gradients that differ at every step
    return activity.detach(), {k: p.grad.clone() for k, p in arch.named_parameters()}


@pytest.mark.parametrize("case", CASES)
def test_whole_trial_node_equals_autograd_on_the_unroll_in_float64(case):
    arch, x = network(case)
    fused, g_fused = gradients(arch, arch.run, x)
    plain, g_plain = gradients(arch, arch.run_stepwise, x)
    assert torch.equal(fused, plain)
    assert 0 < fused.count_nonzero() < fused.numel()  # the network spikes, and not everywhere
    for name, g in g_plain.items():
        assert g.abs().max() > 1e-3, name  # a gradient that is there to compare
        assert (g_fused[name] - g).abs().max() <= 1e-12, name


def test_no_graph_forward_gives_the_same_outputs_in_float32():
    arch, x = network("dale_sparse_reg", torch.float32)
    with torch.no_grad():
        a = arch.run(x)
        b = arch.run_stepwise(x)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


def test_a_given_start_state_takes_the_step_path():
    arch, x = network("lsnn")
    state = arch.init_state(x.shape[1])
    _, g_state = gradients(arch, lambda inp: arch.run(inp, state), x)
    _, g_plain = gradients(arch, arch.run_stepwise, x)
    for name, g in g_plain.items():
        assert (g_state[name] - g).abs().max() <= 1e-12, name


def test_whole_trial_poisson_draws_are_the_step_by_step_draws():
    arch, x = network("lsnn", torch.float32)
    assert torch.equal(arch.encode_all(x), torch.stack([arch.encode(x_t, t) for t, x_t in enumerate(x)]))
