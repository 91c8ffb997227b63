"""The fast paths equal the plain computations they replace, in float64 to 1e-12.

* ``RNN.run`` (rnn Eqs. 6–8: mask product skipped at density 1 or formed once per trial, input projection hoisted out
  of the time loop, readout on the stacked activity) against the generic per-step ``Architecture.run``;
* BPTT's gradient through the fast ``run`` against autograd through the per-step loop;
* the closed-form output error (``engine.tasks.base`` Eqs. 2–3) against autograd of the loss;
* RTRL's factored immediate influence and closed-form readout credit against ``jacobians`` and a vector-Jacobian
  product.
"""

from __future__ import annotations

import pytest
import torch

from engine.archs.base import Architecture
from engine.archs.rnn import RNN, RNNConfig
from engine.rules import RULES
from engine.tasks import TASKS

F64 = torch.float64
TOL = 1e-12

NETS = [
    dict(hidden=7, alpha=1.0),
    dict(hidden=6, alpha=0.3, density=0.5, gain=1.5),
    dict(hidden=5, alpha=0.7, nonlinearity="softplus", density=0.7, h0=0.1),
    dict(hidden=5, alpha=0.2, nonlinearity="relu"),
]


def net(case: dict, n_in: int = 3, n_out: int = 2, seed: int = 0) -> RNN:
    gen = torch.Generator().manual_seed(seed)
    arch = RNN(RNNConfig(**case), n_in, n_out, gen, dtype=F64)
    with torch.no_grad():
        arch.b.normal_(0.0, 0.3, generator=gen)
        arch.b_out.normal_(0.0, 0.3, generator=gen)
    return arch


def close(a: torch.Tensor, b: torch.Tensor) -> bool:
    return (a - b).abs().max().item() <= TOL * max(1.0, b.abs().max().item())


@pytest.mark.parametrize("case", NETS)
def test_fast_run_equals_the_per_step_loop(case):
    arch = net(case)
    x = torch.randn(17, 4, 3, dtype=F64, generator=torch.Generator().manual_seed(1))
    start = arch.init_state(4)._replace(h=torch.rand(4, case["hidden"], dtype=F64) - 0.5)
    for state in (None, start):
        fast_a, fast_y = arch.run(x, state)
        slow_a, slow_y = Architecture.run(arch, x, state)
        assert close(fast_a, slow_a) and close(fast_y, slow_y)


def test_mask_skipped_at_density_one_only():
    dense, sparse = net(NETS[0]), net(NETS[1])
    assert dense.recurrent_weights() is dense.W_rec  # no product at density 1
    assert torch.equal(dense.recurrent_weights(), dense.W_rec * dense.rec_mask)
    assert torch.equal(sparse.recurrent_weights(), sparse.W_rec * sparse.rec_mask)
    assert (sparse.rec_mask == 0).any()


def test_hoisted_input_projection_and_stacked_readout():
    arch = net(NETS[1])
    x = torch.randn(9, 2, 3, dtype=F64)
    per_step = torch.stack([x_t @ arch.W_in.T + arch.b for x_t in x])
    assert close(x @ arch.W_in.T + arch.b, per_step)
    H = torch.randn(9, 2, 6, dtype=F64)
    assert close(H @ arch.W_out.T + arch.b_out, torch.stack([arch.readout(arch.init_state(2)._replace(h=h))
                                                             for h in H]))


@pytest.mark.parametrize("case", NETS)
@pytest.mark.parametrize("task_name", ["add", "pattern_generation"])
def test_bptt_gradient_equals_autograd_through_the_per_step_loop(case, task_name):
    task_cls = TASKS.get(task_name)
    task = task_cls(task_cls.Config())
    arch = net(case, task.n_inputs, task.n_outputs)
    trial = task.sample(3, torch.Generator().manual_seed(2)).to(F64)
    bptt = RULES.get("bptt")(RULES.get("bptt").Config(), arch, torch.Generator())
    got, result = bptt.gradients(task, trial)
    params = dict(arch.named_parameters())
    _, outputs = Architecture.run(arch, trial.inputs)
    loss = task.loss(outputs, trial)
    want = dict(zip(params, torch.autograd.grad(loss, list(params.values()))))
    assert abs(result.loss - loss).item() <= TOL
    for k in want:
        assert close(got[k], want[k]), k


@pytest.mark.parametrize("task_name", TASKS.names())
def test_closed_form_output_error_equals_autograd(task_name):
    task_cls = TASKS.get(task_name)
    task = task_cls(task_cls.Config())
    trial = task.sample(4, torch.Generator().manual_seed(3)).to(F64)
    y = torch.randn(trial.steps, 4, task.n_outputs, dtype=F64, generator=torch.Generator().manual_seed(4))
    for t in (0, trial.steps // 2, trial.steps - 1, slice(None), slice(2, 7)):
        assert close(task.output_error(y[t], trial, t), task.output_error_autograd(y[t], trial, t)), t
    whole = y.clone().requires_grad_(True)
    (want,) = torch.autograd.grad(task.loss(whole, trial), whole)
    assert close(task.output_error(y, trial, slice(None)), want)


@pytest.mark.parametrize("case", NETS)
def test_factored_influence_equals_the_jacobians(case):
    """archs.base Eq. (3) with rnn Eqs. (4)-(5): J_t and M̄_t rebuilt from the factors of K steps at once equal
    the closed-form ``jacobians`` of each step (which the registry tests hold to the torch.func default)."""
    arch = net(case)
    gen = torch.Generator().manual_seed(5)
    x = torch.randn(4, 3, 3, dtype=F64, generator=gen)
    prev = arch.init_state(3)._replace(h=torch.rand(3, case["hidden"], dtype=F64, generator=gen) - 0.5)
    factors = arch.influence_factors(x, prev)
    masks, n, eye = arch.grad_masks(), case["hidden"], torch.eye(case["hidden"], dtype=F64)
    for k, x_t in enumerate(x):
        J_ref, M_ref = arch.jacobians(x_t, prev)
        prev = arch(x_t, prev)
        assert close(factors.states.h[k], prev.h) and close(factors.J[k], J_ref)
        dense = eye[None, :, :, None] * (factors.post[k][:, None, :, None] * factors.pre[k][:, None, None, :])
        pieces = dict(zip(factors.columns, dense.split(list(factors.columns.values()), dim=-1)))
        for name, block in pieces.items():
            block = block * masks[name] if name in masks else block
            assert close(block.reshape(M_ref[name].shape), M_ref[name]), name
    assert close(factors.state.h, prev.h)


def test_closed_form_readout_credit_equals_the_vector_jacobian_product():
    arch = net(NETS[1])
    state = arch.init_state(4)._replace(h=torch.randn(4, 6, dtype=F64))
    eps = torch.randn(4, 2, dtype=F64)
    assert close(arch.readout_credit(state, eps), Architecture.readout_credit(arch, state, eps))


@pytest.mark.parametrize("case", NETS)
def test_rtrl_in_column_blocks_and_short_chunks_equals_one_block(case, monkeypatch):
    import engine.rules.rtrl as rtrl

    task = TASKS.get("add")(TASKS.get("add").Config(steps=14))
    arch = net(case, task.n_inputs, task.n_outputs)
    trial = task.sample(3, torch.Generator().manual_seed(6)).to(F64)
    make = lambda: RULES.get("rtrl")(RULES.get("rtrl").Config(), arch, torch.Generator())  # noqa: E731
    whole, _ = make().gradients(task, trial)
    monkeypatch.setattr(rtrl, "BLOCK", 7)  # many narrow blocks, the last one partial
    monkeypatch.setattr(rtrl, "CHUNK", 3)  # and several chunks of steps, the last one partial
    blocks, _ = make().gradients(task, trial)
    for k in whole:
        assert close(blocks[k], whole[k]), k


@pytest.mark.parametrize("alpha", [1.0, 0.5, 0.1])
@pytest.mark.parametrize("k", [5, 16, 17, 50])
def test_filter_in_sub_blocks_equals_the_dense_filter(alpha, k):
    """traces Eq. (7) against L̃_s = Σ_{t≥s} a^{t−s} L_t as one [k, k] product."""
    arch = net(dict(hidden=4, alpha=alpha))
    rule = RULES.get("eprop")(RULES.get("eprop").Config(), arch, torch.Generator())
    L = torch.randn(k, 6, dtype=F64, generator=torch.Generator().manual_seed(7))
    a = 1.0 - alpha
    dense = rule._filters(k, a, F64)[1] @ L
    assert close(rule._filter(L, a), dense)


@pytest.mark.parametrize("case", NETS)
def test_trial_node_backward_equals_autograd_through_the_per_step_loop(case):
    """rnn Eqs. (11)–(12): the hand-written adjoint of the whole trial (``rnn.Trial``) against autograd through the
    generic per-step loop, for every input — the weights, the input sequence and h_0 — with a loss that reads both
    the outputs and the rates directly (so both ∂L/∂y and ∂L/∂h reach the node)."""
    arch = net(case)
    gen = torch.Generator().manual_seed(8)
    x = torch.randn(13, 4, 3, dtype=F64, generator=gen)
    h0 = (torch.rand(4, case["hidden"], dtype=F64, generator=gen) - 0.5)
    wy, wh = (torch.randn(13, 4, k, dtype=F64, generator=gen) for k in (2, case["hidden"]))
    params = dict(arch.named_parameters())

    def grads(run):
        xs, hs = x.clone().requires_grad_(True), h0.clone().requires_grad_(True)
        H, Y = run(arch, xs, arch.init_state(4)._replace(h=hs))
        loss = (Y * wy).sum() + (H.tanh() * wh).sum()
        return torch.autograd.grad(loss, [xs, hs, *params.values()])

    for got, want, name in zip(grads(RNN.run), grads(Architecture.run), ["inputs", "h0", *params]):
        assert close(got, want), name


def test_trial_node_with_outputs_only_and_without_a_graph():
    arch = net(NETS[3])
    x = torch.randn(6, 2, 3, dtype=F64)
    H, Y = arch.run(x)
    (g,) = torch.autograd.grad(Y.sum(), arch.W_out)
    assert close(g, H.sum((0, 1)).expand_as(g))
    with torch.no_grad():
        H2, Y2 = arch.run(x)
    assert not H2.requires_grad and close(H2, H) and close(Y2, Y)


@pytest.mark.parametrize("T", [1, 40, 50, 64, 65, 100, 200])
def test_eprop_chunks_are_equal_and_at_most_the_chunk(T):
    """traces Eq. (6)'s chunk length: ⌈T / chunk⌉ chunks (as many as before) of equal length, none over ``chunk``."""
    rule = RULES.get("eprop")(RULES.get("eprop").Config(chunk=64), net(NETS[0]), torch.Generator())
    K = rule.chunk_length(T)
    assert K <= min(64, T) and -(-T // K) == -(-T // 64) and T - (-(-T // K) - 1) * K > K - -(-T // K)


def test_unit_locals_without_the_diagonal_are_the_same_locals():
    """The sweep e-prop and RFLO use (``diag=False``: D_t not computed) gives the same d, ē and states."""
    arch = net(NETS[1])
    x = torch.randn(5, 3, 3, dtype=F64, generator=torch.Generator().manual_seed(9))
    full, lean = arch.unit_locals(x, arch.init_state(3)), arch.unit_locals(x, arch.init_state(3), diag=False)
    assert lean.diag is None and full.own == lean.own and torch.equal(full.state.h, lean.state.h)
    for a, b in zip(full.blocks, lean.blocks):
        assert torch.equal(a.post, b.post) and torch.equal(a.pre, b.pre)
