"""Oracle tests (float64) for the exact-gradient family: rtrl and tbptt against bptt, readout against bptt's readout.

Every case is a random network (sizes, leak, density, nonlinearity, biases moved off zero) on a random trial of
every registered task, for several seeds.
"""

from __future__ import annotations

import random

import pytest
import torch

from engine.archs.base import Architecture
from engine.archs.rnn import RNN, RNNConfig
from engine.rules import RULES
from engine.spec import RunSpec
from engine.tasks import TASKS
from engine.training import Trainer

F64 = torch.float64
TOL = 1e-10

ARCH_CASES = [
    dict(hidden=6, alpha=1.0),
    dict(hidden=5, alpha=0.3, density=0.5, gain=1.5),
    dict(hidden=4, alpha=0.7, nonlinearity="softplus", init="orthogonal", density=0.7),
]
SEEDS = [0, 1, 2]


def small_task_config(name: str, rng: random.Random) -> dict:
    """Short trials of random length. Only settings the task actually has are set (tasks evolve in parallel)."""
    if name == "add":
        t1 = rng.randint(1, 4)
        t2 = t1 + rng.randint(1, 4)
        return {"t1": t1, "t2": t2, "steps": t2 + rng.randint(3, 15)}
    wanted = {"steps": rng.randint(16, 30), "delay": rng.randint(2, 8), "max_delay": rng.randint(3, 8)}
    return {k: v for k, v in wanted.items() if k in TASKS.get(name).Config.model_fields}


def setup(task_name: str, arch_case: dict, seed: int, batch: int = 3):
    rng = random.Random(seed)
    task_cls = TASKS.get(task_name)
    task = task_cls(task_cls.Config(**small_task_config(task_name, rng)))
    gen = torch.Generator().manual_seed(1000 + seed)
    arch = RNN(RNNConfig(**arch_case), task.n_inputs, task.n_outputs, gen, dtype=F64)
    with torch.no_grad():  # biases start at zero; move them so their paths are generic
        arch.b.normal_(0.0, 0.3, generator=gen)
        arch.b_out.normal_(0.0, 0.3, generator=gen)
    trial = task.sample(batch, gen).to(F64)
    return task, arch, trial


def rule(name: str, arch, **config):
    cls = RULES.get(name)
    return cls(cls.Config(**config), arch, torch.Generator().manual_seed(0))


def rel_err(a: torch.Tensor, b: torch.Tensor) -> float:
    assert b.norm() > 0, "the reference gradient is zero: the comparison would prove nothing"
    return ((a - b).norm() / b.norm()).item()


# Every network case on every seed for add; one case per seed (all cases covered) for the other tasks.
CASES = [("add", i, s) for i in range(len(ARCH_CASES)) for s in SEEDS] + \
    [(t, s % len(ARCH_CASES), s) for t in TASKS.names() if t != "add" for s in SEEDS]


@pytest.mark.parametrize("task_name,case,seed", CASES)
def test_rtrl_equals_bptt(task_name, case, seed):
    task, arch, trial = setup(task_name, ARCH_CASES[case], seed)
    true, ref = rule("bptt", arch).gradients(task, trial)
    got, result = rule("rtrl", arch).gradients(task, trial)
    assert set(got) == set(true)
    for k in true:
        assert rel_err(got[k], true[k]) <= TOL, k
    assert torch.allclose(result.outputs, ref.outputs) and abs(result.loss - ref.loss) <= 1e-12


def test_rtrl_with_generic_jacobians_equals_bptt(monkeypatch):
    """RTRL needs only ``arch.jacobians``: with the torch.func default instead of the rnn's closed form, and without
    the factored influence and closed-form credit, it is still exact (what lets it support future architectures)."""
    task, arch, trial = setup("add", ARCH_CASES[1], 5)
    monkeypatch.setattr(arch, "jacobians", lambda x, s: Architecture.jacobians(arch, x, s))
    monkeypatch.setattr(arch, "influence_factors", lambda x, s: Architecture.influence_factors(arch, x, s))
    monkeypatch.setattr(arch, "readout_credit", lambda s, e: Architecture.readout_credit(arch, s, e))
    true, _ = rule("bptt", arch).gradients(task, trial)
    got, _ = rule("rtrl", arch).gradients(task, trial)
    for k in true:
        assert rel_err(got[k], true[k]) <= TOL, k


def detached_every_k(arch, task, trial, k):
    """The modified graph tbptt claims to follow, built directly: one autograd graph over the whole trial in which
    the state is cut from the graph at steps 0, k, 2k, …"""
    params = dict(arch.named_parameters())
    state, outs = arch.init_state(trial.batch), []
    with torch.enable_grad():
        for t, x_t in enumerate(trial.inputs):
            if t % k == 0:
                state = type(state)(*(f.detach() for f in state))
            state = arch(x_t, state)
            outs.append(arch.readout(state))
        loss = task.loss(torch.stack(outs), trial)
        grads = torch.autograd.grad(loss, list(params.values()))
    return dict(zip(params, grads))


@pytest.mark.parametrize("task_name,case,seed", CASES)
def test_tbptt_long_window_equals_bptt(task_name, case, seed):
    task, arch, trial = setup(task_name, ARCH_CASES[case], seed)
    true, _ = rule("bptt", arch).gradients(task, trial)
    for window in (trial.steps, trial.steps + 7):
        got, _ = rule("tbptt", arch, window=window).gradients(task, trial)
        for k in true:
            assert rel_err(got[k], true[k]) <= TOL, (window, k)


@pytest.mark.parametrize("task_name,case,seed", CASES)
def test_tbptt_short_window_equals_detached_graph(task_name, case, seed):
    task, arch, trial = setup(task_name, ARCH_CASES[case], seed)
    window = random.Random(seed).randint(2, 3)
    assert trial.steps > 2 * window
    got, result = rule("tbptt", arch, window=window).gradients(task, trial)
    want = detached_every_k(arch, task, trial, window)
    true, ref = rule("bptt", arch).gradients(task, trial)
    for k in want:
        assert rel_err(got[k], want[k]) <= TOL, k
    assert rel_err(got["W_rec"], true["W_rec"]) > 1e-3, "truncation changed nothing: the test shows no difference"
    assert torch.allclose(result.outputs, ref.outputs) and abs(result.loss - ref.loss) <= 1e-12


def test_tbptt_memory_grows_with_window_not_trial_length():
    _, arch, _ = setup("add", ARCH_CASES[0], 0)
    short, long = rule("tbptt", arch, window=5), rule("tbptt", arch, window=10)
    assert short.state_bytes(8, 100) == short.state_bytes(8, 1000)
    assert long.state_bytes(8, 100) == 2 * short.state_bytes(8, 100)
    assert long.state_bytes(8, 100) < rule("bptt", arch).state_bytes(8, 100)


@pytest.mark.parametrize("task_name,case,seed", CASES)
def test_readout_gradient_equals_bptt_readout_gradient(task_name, case, seed):
    task, arch, trial = setup(task_name, ARCH_CASES[case], seed)
    r = rule("readout", arch)
    assert set(r.trainable()) == {"W_out", "b_out"}
    got, _ = r.gradients(task, trial)
    true, _ = rule("bptt", arch).gradients(task, trial)
    assert set(got) == {"W_out", "b_out"}
    for k in got:
        assert rel_err(got[k], true[k]) <= TOL, k


def test_readout_training_leaves_the_recurrent_circuit_untouched():
    spec = RunSpec(task="add", rule="readout", dtype="float64", batch=4, steps=5, seed=3,
                   arch_config={"hidden": 8, "density": 0.6}, optim={"lr": 0.05})
    trainer = Trainer(spec)
    initial = {k: p.detach().clone() for k, p in trainer.arch.named_parameters()}
    assert {id(p) for g in trainer.optimizer.param_groups for p in g["params"]} == \
        {id(p) for p in trainer.arch.readout_parameters().values()}
    list(trainer.run())
    assert trainer.status == "done"
    for k, p in trainer.arch.named_parameters():
        if k in ("W_out", "b_out"):
            assert not torch.equal(p, initial[k]), k
        else:
            assert torch.equal(p, initial[k]), k


def test_rtrl_influence_size_and_refusal():
    task, arch, trial = setup("add", dict(hidden=24), 0, batch=16)
    n, i = 24, task.n_inputs
    r = rule("rtrl", arch, max_memory_mb=1.0)
    assert r.influence_bytes(16) == 16 * n * (n * n + n * i + n) * 8
    assert r.state_bytes(16, 10) == r.state_bytes(16, 99) == r.influence_bytes(16) + 16 * n * 8  # M and the state
    with pytest.raises(ValueError, match=r"MiB.*limit of 1 MiB.*lower the hidden size"):
        r.gradients(task, trial)
    r.check_memory(1)  # one trial fits: 24·624·8 bytes ≈ 0.11 MB
    spec = RunSpec(task="add", rule="rtrl", batch=512, steps=1, arch_config={"hidden": 256})
    with pytest.raises(ValueError, match="n³"):
        Trainer(spec).train_step()


def test_rtrl_signals_show_the_influence_growing():
    task, arch, trial = setup("add", ARCH_CASES[0], 0, batch=1)
    signals = rule("rtrl", arch).signals(task, trial)
    norms = signals["influence_norm"]
    assert norms.shape == (trial.steps, arch.n_units)
    assert (norms >= 0).all() and (norms[0] > 0).any()
