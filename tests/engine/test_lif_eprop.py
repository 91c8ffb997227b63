"""e-prop on `lif` (engine.rules.eprop_lif) against its two oracles in float64: autograd with the spikes' recurrent
path detached, and — with the true dE/dz as learning signal — BPTT itself (the e-prop factorisation)."""

import pytest
import torch

from engine.archs.lif import LIF, LIFConfig, LIFState
from engine.rules import RULES
from engine.spec import RunSpec
from engine.tasks import TASKS

D = torch.float64
CASES = [
    {"adaptive_fraction": 0.5},
    {"adaptive_fraction": 1.0, "refractory": 10.0},
    {"adaptive_fraction": 0.0},
    {"adaptive_fraction": 0.5, "dale": True, "density": 0.5, "rate_reg": 30.0},
    {"adaptive_fraction": 0.5, "input": "current", "rate_reg": 5.0, "tau_out": 1e-3},
]


def make(cfg, batch=3, seed=0):
    task_cls = TASKS.get("evidence_accumulation")
    task = task_cls(task_cls.Config(cues=3, delay=3, recall_steps=3, population=2, noise=0.1))
    # a strong adaptation and a low threshold keep the ALIF terms and many pseudo-derivatives in play
    arch = LIF(LIFConfig(**{"hidden": 10, "dt": 5.0, "input_rate": 150.0, "beta": 30.0, "v_th": 0.3,
                            "tau_a": 60.0, **cfg}), task.n_inputs, task.n_outputs,
               torch.Generator().manual_seed(10 + seed), D)
    with torch.no_grad():
        arch.b_out.add_(0.3)
    trial = task.sample(batch, torch.Generator().manual_seed(20 + seed)).to(D)
    return task, arch, trial


def rule(arch, **cfg):
    cls = RULES.get("eprop_lif")
    return cls(cls.Config(**{"feedback": "symmetric", **cfg}), arch, torch.Generator().manual_seed(1))


def unroll(arch, trial, recurrent=lambda t, z: z, extra=None):
    """The network step by step; ``recurrent`` maps the spikes before they go through W (detach them for e-prop's
    graph; add a zero with a gradient to read dE/dz); ``extra(t, z)`` a term added to the spikes the readout sees.
    Returns the outputs [T, B, O] and spikes [T, B, n]."""
    state = arch.init_state(trial.batch)
    W, kappa = arch.recurrent_weights(), arch.kappa
    x_hat = arch.encode_all(trial.inputs)
    zf, ys, zs = torch.zeros_like(state.zf), [], []
    for t, x in enumerate(x_hat):
        prev, state = state, arch.step(x @ arch.W_in.T, state, recurrent=recurrent(t, state.z), W=W)
        z = state.z if extra is None else state.z + extra(t, prev, state)
        zf = kappa * zf + (1 - kappa) * z
        ys.append(zf @ arch.W_out.T + arch.b_out)
        zs.append(state.z)
    return torch.stack(ys), torch.stack(zs)


def assert_close(got, want, names=("W_rec", "W_in"), tol=1e-11):
    for k in names:
        err = ((got[k] - want[k]).norm() / want[k].norm()).item()
        assert want[k].norm() > 0 and err < tol, f"{k}: relative difference {err:.2e}"


@pytest.mark.parametrize("cfg", CASES)
@pytest.mark.parametrize("chunk", [1, 4, 1000])
def test_symmetric_eprop_equals_autograd_with_the_recurrent_spikes_detached(cfg, chunk):
    task, arch, trial = make(cfg)
    got, result = rule(arch, chunk=chunk).gradients(task, trial)
    y, Z = unroll(arch, trial, recurrent=lambda t, z: z.detach())
    loss = task.loss(y, trial) + (arch.rate_penalty(Z) if arch.config.rate_reg else 0)
    params = dict(arch.named_parameters())
    want = dict(zip(params, torch.autograd.grad(loss, list(params.values()))))
    assert_close(got, want, names=("W_rec", "W_in", "W_out", "b_out"))
    assert torch.allclose(result.outputs, y.detach(), atol=1e-12)
    assert torch.allclose(result.loss, task.loss(y, trial).detach())


@pytest.mark.parametrize("cfg", CASES[:4])
@pytest.mark.parametrize("chunk", [1, 5, 1000])
def test_with_the_true_learning_signal_the_factorisation_is_bptt(cfg, chunk):
    cfg = {**cfg, "rate_reg": 0.0}
    task, arch, trial = make(cfg, seed=1)
    bptt = RULES.get("bptt")
    true, _ = bptt(bptt.Config(), arch, torch.Generator()).gradients(task, trial)
    delta = torch.zeros(trial.steps, trial.batch, arch.n_units, dtype=D, requires_grad=True)
    # z_net = z + δ goes through W (one step later) and to the readout; the neuron's own adaptation sees z itself
    y, _ = unroll(arch, trial, recurrent=lambda t, z: z + delta[t - 1] if t > 0 else z,
                  extra=lambda t, prev, s: delta[t])
    (dE_dz,) = torch.autograd.grad(task.loss(y, trial), delta)
    got = rule(arch, chunk=chunk).factorised(trial, dE_dz)
    assert_close(got, true, tol=1e-12)


def test_random_feedback_sends_the_error_through_its_own_matrix():
    task, arch, trial = make(CASES[0])
    r = rule(arch, feedback="random", chunk=3)
    got, _ = r.gradients(task, trial)
    y, _ = unroll(arch, trial, recurrent=lambda t, z: z.detach())
    eps = task.output_error(y, trial, slice(None))  # ε_t, then L = B ε_t reaches zf as if it were ∂L/∂zf
    _, Z = unroll(arch, trial, recurrent=lambda t, z: z.detach())
    zf, zfs = torch.zeros_like(Z[0]), []
    for z in Z:  # lif Eq. (6)
        zf = arch.kappa * zf + (1 - arch.kappa) * z
        zfs.append(zf)
    proxy = (torch.stack(zfs) * (eps @ r.feedback.matrix().T)).sum()  # Σ_t ⟨L_t, zf_t⟩, L detached
    want = dict(zip(("W_rec", "W_in"), torch.autograd.grad(proxy, [arch.W_rec, arch.W_in])))
    assert_close(got, want)
    sym, _ = rule(arch).gradients(task, trial)
    assert not torch.allclose(sym["W_rec"], got["W_rec"])
    assert torch.allclose(sym["W_out"], got["W_out"])  # the readout's own gradient is exact either way


def test_adaptive_feedback_turns_into_the_readout_weights():
    task, arch, trial = make(CASES[0])
    r = rule(arch, feedback="adaptive", feedback_decay=0.2)
    before = r.feedback.alignment()
    opt = torch.optim.SGD(list(r.trainable().values()), lr=0.5)
    for _ in range(15):
        grads, _ = r.gradients(task, trial)
        opt.zero_grad()
        r.apply(grads)
        opt.step()
        r.after_update()
    assert r.feedback.alignment() > max(0.9, before + 0.3)


def test_signals_and_costs():
    task, arch, trial = make(CASES[0])
    r = rule(arch, feedback="random", chunk=4)
    one = task.sample(1, torch.Generator().manual_seed(3)).to(D)
    sig = r.signals(task, one)
    assert sig["learning_signal"].shape == sig["eligibility_trace"].shape == (one.steps, 4)
    assert sig["eligibility_trace"].abs().sum() > 0
    fixed, per_step = r.memory(64)
    assert per_step == 0 and fixed > 0
    assert r.state_bytes(64, 1000) == r.state_bytes(64, 10)  # independent of T


def test_the_rule_eprop_on_lif_runs_the_spiking_eprop_and_eprop_lif_stays_an_alias():
    from engine.catalog import catalog
    from engine.rules.eprop import Eprop
    from engine.rules.eprop_lif import EpropLIF
    from engine.rules.mdgl import MDGL
    from engine.spec import implementation, resolve
    from engine.training import Trainer

    assert implementation("eprop", "lif") is EpropLIF and implementation("eprop", "rnn") is Eprop
    assert implementation("eprop_lif", "lif") is EpropLIF and implementation("mdgl", "lif") is MDGL
    compat = catalog()["compatibility"]
    assert {"eprop", "eprop_lif"} <= set(compat["lif"]) and "eprop" in compat["rnn"]
    assert "eprop_lif" not in compat["rnn"]
    base = dict(task="evidence_accumulation", arch="lif", steps=3, batch=4, seed=3, alignment_every=1,
                task_config={"cues": 3, "delay": 4}, arch_config={"hidden": 12, "dt": 5.0},
                rule_config={"feedback": "symmetric"})
    r = resolve(RunSpec(rule="eprop", **base))
    assert r.rule_cls is EpropLIF and r.rule_config.feedback == "symmetric"
    histories = []
    for rule in ("eprop", "eprop_lif"):  # a run saved as eprop_lif and the same run asked for as eprop
        histories.append([{k: v for k, v in h.to_dict().items() if k != "ms"}
                          for h in Trainer(RunSpec(rule=rule, **base)).run()])
    assert histories[0] == histories[1]
