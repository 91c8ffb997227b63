"""e-prop and RFLO against float64 oracles: autograd through the graph with the recurrent input detached."""

from __future__ import annotations

import pytest
import torch

from engine.archs.rnn import RNN, RNNConfig
from engine.bench import format_table, run_bench
from engine.config import SettingError, build_config
from engine.rules import RULES
from engine.spec import RunSpec
from engine.tasks import TASKS
from engine.training import Trainer


SETTINGS = [(0, 0.5, 1.0), (1, 1.0, 0.6), (2, 0.3, 0.5)]  # (seed, α, density)


def make(task_name: str, seed: int, alpha: float, density: float, batch: int = 3, hidden: int = 8):
    task = TASKS.get(task_name)(TASKS.get(task_name).Config())
    arch = RNN(RNNConfig(hidden=hidden, alpha=alpha, density=density, gain=1.2), task.n_inputs, task.n_outputs,
               torch.Generator().manual_seed(seed), torch.float64)
    with torch.no_grad():  # a nonzero bias, so that every group has a generic gradient
        arch.b.copy_(0.1 * torch.randn(hidden, generator=torch.Generator().manual_seed(seed + 7), dtype=torch.float64))
    trial = task.sample(batch, torch.Generator().manual_seed(100 + seed)).to(torch.float64)
    return task, arch, trial


def rule(name: str, arch: RNN, **config):
    cls = RULES.get(name)
    return cls(build_config(cls.Config, config, "rule_config"), arch, torch.Generator().manual_seed(5))


def detached_autograd(arch: RNN, task, trial, feedback: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """The oracle: rnn Eqs. (1)–(3) with W_rec·h_{t−1} detached and the leak term kept. With ``feedback`` B, the
    output's value is unchanged but its gradient reaches h_t through B instead of W_outᵀ."""
    params = dict(arch.named_parameters())
    with torch.enable_grad():
        h, ys = arch.init_state(trial.batch).h, []
        for x in trial.inputs:
            u = h.detach() @ (arch.W_rec * arch.rec_mask).T + x @ arch.W_in.T + arch.b
            h = (1 - arch.alpha) * h + arch.alpha * arch.phi(u)
            if feedback is None:
                ys.append(h @ arch.W_out.T + arch.b_out)
            else:
                ys.append(h.detach() @ arch.W_out.T + arch.b_out + h @ feedback - (h @ feedback).detach())
        grads = torch.autograd.grad(task.loss(torch.stack(ys), trial), list(params.values()))
    return dict(zip(params, grads))


def assert_close(got: dict[str, torch.Tensor], want: dict[str, torch.Tensor], tol: float = 1e-10) -> None:
    assert set(got) == set(want)
    for k in want:  # relative error; absolute where the true gradient is 0 (e.g. W_in under a silent input)
        scale = want[k].norm().item()
        err = (got[k] - want[k]).norm().item() / (scale if scale > 0 else 1.0)
        assert err <= tol, f"{k}: relative error {err:.2e}"


@pytest.mark.parametrize("task_name", TASKS.names())
@pytest.mark.parametrize("seed,alpha,density", SETTINGS)
def test_symmetric_feedback_equals_detached_autograd(task_name, seed, alpha, density):
    task, arch, trial = make(task_name, seed, alpha, density)
    T = trial.steps
    divisor = next(d for d in (5, 4, 3, 2, 1) if T % d == 0)
    oracle = detached_autograd(arch, task, trial)
    assert oracle["W_rec"].norm() > 0 and oracle["b"].norm() > 0
    runs = [("eprop", {"impl": "stepwise"}), ("rflo", {"impl": "stepwise", "feedback": "symmetric"})]
    runs += [("eprop", {"chunk": k}) for k in (1, 7, 13, divisor, T, T + 3)]
    runs += [("rflo", {"chunk": 6, "feedback": "symmetric"})]
    results = {}
    for name, config in runs:
        grads, result = rule(name, arch, **config).gradients(task, trial)
        assert_close(grads, oracle)
        assert torch.allclose(result.loss, task.loss(arch.run(trial.inputs)[1], trial), rtol=1e-12)
        results[(name, str(config))] = grads
    stepwise = results[("eprop", str({"impl": "stepwise"}))]
    for grads in results.values():  # the chunked form (traces Eqs. 3–4) is the stepwise one (Eqs. 1–2)
        assert_close(grads, stepwise, 1e-12)


def test_detached_graph_is_not_bptt():
    """The equality above is not vacuous: the full gradient differs (the W_rec paths are what e-prop drops)."""
    task, arch, trial = make("add", 0, 0.5, 1.0)
    grads, _ = rule("eprop", arch).gradients(task, trial)
    true, _ = rule("bptt", arch).gradients(task, trial)
    err = ((grads["W_rec"] - true["W_rec"]).norm() / true["W_rec"].norm()).item()
    assert err > 1e-3


@pytest.mark.parametrize("name,kind", [("eprop", "random"), ("eprop", "adaptive"), ("rflo", "random")])
@pytest.mark.parametrize("seed,alpha,density", SETTINGS)
def test_random_feedback_routes_error_through_B(name, kind, seed, alpha, density):
    task, arch, trial = make("add", seed, alpha, density)
    r = rule(name, arch, feedback=kind, chunk=7)
    B = r.feedback.B
    assert B is not None and B.shape == (arch.n_units, task.n_outputs)
    grads, _ = r.gradients(task, trial)
    assert_close(grads, detached_autograd(arch, task, trial, feedback=B))
    symmetric, _ = rule(name, arch, feedback="symmetric").gradients(task, trial)
    assert not torch.allclose(grads["W_rec"], symmetric["W_rec"], rtol=1e-3)
    assert torch.allclose(grads["W_out"], symmetric["W_out"], rtol=1e-12)  # the readout's gradient is exact either way


def train(rule_name: str, steps: int, **rule_config) -> Trainer:
    spec = RunSpec(task="add", rule=rule_name, rule_config=rule_config, arch_config={"hidden": 16}, batch=8,
                   steps=steps, optim={"lr": 0.02}, seed=3)
    return Trainer(spec)


def test_random_feedback_stays_fixed_during_training():
    trainer = train("rflo", 20)
    B0 = trainer.rule.feedback.B.clone()
    W0 = trainer.arch.W_out.detach().clone()
    list(trainer.run())
    assert trainer.status == "done"
    assert torch.equal(trainer.rule.feedback.B, B0)
    assert not torch.allclose(trainer.arch.W_out, W0)


def test_adaptive_feedback_aligns_with_readout():
    adaptive, fixed = train("eprop", 100, feedback="adaptive"), train("eprop", 100, feedback="random")
    start = adaptive.rule.feedback_alignment()
    B0 = adaptive.rule.feedback.B.clone()
    list(adaptive.run())
    list(fixed.run())
    assert not torch.equal(adaptive.rule.feedback.B, B0)
    end = adaptive.rule.feedback_alignment()
    assert abs(start) < 0.5
    assert end > start + 0.4, (start, end)
    assert end > fixed.rule.feedback_alignment() + 0.3
    assert adaptive.snapshot()["signals"]["feedback_alignment"][0] == pytest.approx(end, abs=1e-5)


@pytest.mark.parametrize("name,config", [("eprop", {}), ("rflo", {}), ("eprop", {"impl": "stepwise"}),
                                         ("eprop", {"chunk": 40})])
@pytest.mark.parametrize("alpha", [0.5, 1.0])
def test_state_bytes_do_not_grow_with_trial_length(name, config, alpha):
    task, arch, _ = make("add", 0, alpha, 1.0, hidden=32)
    r, bptt = rule(name, arch, **config), rule("bptt", arch)
    sizes = [r.state_bytes(32, T) for T in (50, 100, 400, 2000)]
    assert len(set(sizes)) == 1 and sizes[0] > 0
    grows = [bptt.state_bytes(32, T) for T in (50, 100, 400, 2000)]
    assert grows == sorted(grows) and grows[-1] == 40 * grows[0]
    assert sizes[0] < bptt.state_bytes(32, 2000)
    if alpha < 1:  # the per-trial trace is counted
        assert sizes[0] >= 32 * 32 * (32 + task.n_inputs + 1) * arch.W_rec.element_size()


def test_signals_shapes_and_values():
    task, arch, _ = make("add", 1, 0.5, 0.6, hidden=12)
    trial = task.sample(1, torch.Generator().manual_seed(9)).to(torch.float64)
    r = rule("eprop", arch)
    sig = r.signals(task, trial)
    T = trial.steps
    assert set(sig) == {"learning_signal", "eligibility_trace"}
    assert sig["learning_signal"].shape == (T, 4) and sig["eligibility_trace"].shape == (T, 4)
    rows, cols = r.shown
    assert bool((arch.rec_mask[rows, cols] == 1).all()) and len(set(rows.tolist())) == 4
    # Oracle for the traces: e_t,ij = ∂h_t,i/∂W_ij in the detached graph; for the learning signal: ∂L/∂h_t via y_t.
    W = arch.W_rec.detach().clone().requires_grad_(True)
    h, hs = torch.zeros(1, 12, dtype=torch.float64), []
    for x in trial.inputs:
        u = h.detach() @ (W * arch.rec_mask).T + x @ arch.W_in.detach().T + arch.b.detach()
        h = (1 - arch.alpha) * h + arch.alpha * arch.phi(u)
        hs.append(h)
    want = torch.stack([torch.stack([torch.autograd.grad(hs[t][0, i], W, retain_graph=True)[0][i, j]
                                     for i, j in zip(rows.tolist(), cols.tolist())]) for t in range(T)])
    assert torch.allclose(sig["eligibility_trace"], want, rtol=1e-10, atol=1e-14)
    H = torch.stack(hs).detach().requires_grad_(True)
    loss = task.loss(H @ arch.W_out.detach().T + arch.b_out.detach(), trial)
    (dH,) = torch.autograd.grad(loss, H)
    assert torch.allclose(sig["learning_signal"], dH[:, 0, rows], rtol=1e-10, atol=1e-14)
    random = rule("rflo", arch).signals(task, trial)
    assert random["feedback_alignment"].shape == (1,) and -1 <= random["feedback_alignment"].item() <= 1


def test_settings_are_checked():
    with pytest.raises(SettingError, match="feedback"):
        build_config(RULES.get("rflo").Config, {"feedback": "adaptive"}, "rule_config")
    with pytest.raises(SettingError, match="chunk"):
        build_config(RULES.get("eprop").Config, {"chunk": 0}, "rule_config")
    for name in ("eprop", "rflo"):
        cls = RULES.get(name)
        assert not cls.exact and cls.online and "detached" in cls.approximates
        assert all(f.description for f in cls.Config.model_fields.values())


def test_bench_reports_every_rule_against_bptt():
    rows = run_bench(sizes=(8,), steps=(12, 24), batch=2, rules=["eprop", "rflo"], warmup=1, repeats=1)
    assert [(r["rule"], r["steps"]) for r in rows] == [(k, T) for T in (12, 24) for k in ("bptt", "eprop", "rflo")]
    for r in rows:
        assert r["ms"] > 0 and r["state_bytes"] > 0 and r["ms_ratio"] > 0
    bptt = [r for r in rows if r["rule"] == "bptt"]
    eprop = [r for r in rows if r["rule"] == "eprop"]
    assert bptt[1]["state_bytes"] == 2 * bptt[0]["state_bytes"] and eprop[0]["state_bytes"] == eprop[1]["state_bytes"]
    assert eprop[1]["state_bytes_ratio"] == pytest.approx(eprop[1]["state_bytes"] / bptt[1]["state_bytes"])
    table = format_table(rows)
    assert all(name in table for name in ("bptt", "eprop", "rflo", "ms/update"))
