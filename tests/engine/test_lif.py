"""The spiking network `lif` (engine.archs.lif): its equations, its options, and the rules that train it by autograd."""

import math

import pytest
import torch

from engine.archs.lif import LIF, LIFConfig
from engine.config import SettingError
from engine.rules import RULES
from engine.spec import RunSpec, resolve
from engine.tasks import TASKS
from engine.training import Trainer

D = torch.float64


def make(batch=3, **cfg):
    task_cls = TASKS.get("evidence_accumulation")
    task = task_cls(task_cls.Config(cues=3, delay=4, recall_steps=3, population=2, noise=0.1))
    arch = LIF(LIFConfig(**{"hidden": 12, "dt": 5.0, "input_rate": 150.0, **cfg}), task.n_inputs, task.n_outputs,
               torch.Generator().manual_seed(3), D)
    trial = task.sample(batch, torch.Generator().manual_seed(4)).to(D)
    return task, arch, trial


def test_step_by_step_equals_the_whole_trial_and_follows_the_equations():
    task, arch, trial = make(adaptive_fraction=0.5, refractory=10.0)
    act, out = arch.run(trial.inputs)
    s, ys, states = arch.init_state(trial.batch), [], []
    for x in trial.inputs:
        s = arch(x, s)
        ys.append(arch.readout(s))
        states.append(s)
    assert torch.equal(torch.stack(ys), out)
    z = torch.stack([st.z for st in states])
    assert z.sum() > 0 and set(z.unique().tolist()) <= {0.0, 1.0}
    # refractory: n_ref = 2 steps of silence after each spike (Eq. 5)
    assert arch.n_ref == 2
    after = z[1:] * z[:-1]
    assert after.sum() == 0 and (z[2:] * z[:-2]).sum() == 0
    # reset by subtraction and threshold (Eqs. 1-3): replay one neuron by hand
    W, x_hat = arch.recurrent_weights().detach(), arch.encode_all(trial.inputs)
    v = a = zprev = torch.zeros(trial.batch, arch.n_units, dtype=D)
    for t, st in enumerate(states):
        a = arch.rho * a + zprev
        v = arch.alpha * v + zprev @ W.T + x_hat[t] @ arch.W_in.detach().T - arch.config.v_th * zprev
        assert torch.allclose(st.v, v) and torch.allclose(st.a, a)
        zprev = st.z
    assert torch.all(arch.recurrent_weights().diagonal() == 0)  # no self-connections


def test_adaptive_fraction_and_beta_follow_the_paper():
    arch = LIF(LIFConfig(hidden=100, adaptive_fraction=0.5), 4, 2, torch.Generator().manual_seed(0))
    assert int(arch.adaptive.sum()) == 50
    assert arch.beta.max().item() == pytest.approx(0.01742, rel=2e-3)  # Eq. (7) at the paper's constants
    assert int(LIF(LIFConfig(hidden=10, adaptive_fraction=0.0), 4, 2, torch.Generator()).adaptive.sum()) == 0
    cfg = LIFConfig(hidden=10, adaptive_fraction=1.0, dale=True, excitatory_fraction=0.8)
    types = LIF(cfg, 4, 2, torch.Generator()).cell_types()
    assert types["adaptive"].all() and int(types["excitatory"].sum()) == 8


def test_poisson_inputs_are_a_seeded_function_of_the_trial():
    task, arch, trial = make()
    x1, x2 = arch.encode_all(trial.inputs), arch.encode_all(trial.inputs.clone())
    assert torch.equal(x1, x2)
    other = LIF(arch.config, task.n_inputs, task.n_outputs, torch.Generator().manual_seed(99), D)
    assert not torch.equal(other.encode_all(trial.inputs), x1)
    ones = torch.ones(400, 8, 5, dtype=D)
    rate = arch.encode_all(ones).mean().item()  # p = 150 Hz · 5 ms = 0.75
    assert rate == pytest.approx(0.75, abs=0.02)
    assert set(x1.unique().tolist()) <= {0.0, 1.0}


def test_spike_pseudo_derivative_is_the_papers():
    _, arch, _ = make(gamma=0.3, v_th=0.6)
    v = torch.linspace(-1, 2, 31, dtype=D, requires_grad=True)
    A = torch.full_like(v, 0.6)
    z = arch.fire(v, A, torch.zeros_like(v))
    (g,) = torch.autograd.grad(z.sum(), v)
    expected = 0.3 / 0.6 * (1 - ((v.detach() - 0.6) / 0.6).abs()).clamp_min(0)
    assert torch.allclose(g, expected)
    assert torch.allclose(arch.pseudo_derivative(v.detach(), A, torch.zeros_like(v)), expected)


@pytest.mark.parametrize("cfg", [{}, {"dale": True, "density": 0.5}, {"adaptive_fraction": 0.0}])
def test_tbptt_with_a_long_window_and_bptt_agree(cfg):
    task, arch, trial = make(**cfg)
    bptt = RULES.get("bptt")(RULES.get("bptt").Config(), arch, torch.Generator())
    tb_cls = RULES.get("tbptt")
    tb = tb_cls(tb_cls.Config(window=1000), arch, torch.Generator())
    g1, _ = bptt.gradients(task, trial)
    g2, _ = tb.gradients(task, trial)
    assert g1["W_rec"].norm() > 0 and g1["W_in"].norm() > 0
    for k in g1:
        assert torch.allclose(g1[k], g2[k], atol=1e-12, rtol=1e-10), k


def test_bptt_gradient_includes_the_rate_regulariser():
    task, arch, trial = make(rate_reg=50.0, target_rate=5.0)
    bptt = RULES.get("bptt")(RULES.get("bptt").Config(), arch, torch.Generator())
    got, _ = bptt.gradients(task, trial)
    params = dict(arch.named_parameters())
    s = arch.trajectory(trial.inputs)
    loss = task.loss(s.zf @ arch.W_out.T + arch.b_out, trial) + arch.rate_penalty(s.z)  # Eq. (11) in the loss
    want = torch.autograd.grad(loss, list(params.values()))
    for (k, _), w in zip(params.items(), want):
        assert torch.allclose(got[k], w, atol=1e-12), k
    s = arch.trajectory(trial.inputs)
    plain = torch.autograd.grad(task.loss(s.zf @ arch.W_out.T + arch.b_out, trial), arch.W_rec)[0]
    assert not torch.allclose(got["W_rec"], plain)  # the regulariser changed it


def test_dale_keeps_signs_and_absent_synapses_stay_absent_while_training():
    spec = RunSpec(task="evidence_accumulation", arch="lif", rule="bptt", steps=4, batch=4, seed=1,
                   arch_config={"hidden": 16, "dale": True, "density": 0.3, "dt": 5.0},
                   optim={"lr": 0.1}, alignment_every=0)
    tr = Trainer(spec)
    before = tr.arch.recurrent_weights().detach().clone()
    list(tr.run())
    after = tr.arch.recurrent_weights().detach()
    assert not torch.equal(before, after)
    assert torch.all(after[:, : tr.arch.n_exc] >= 0) and torch.all(after[:, tr.arch.n_exc:] <= 0)
    assert torch.all(after[tr.arch.rec_mask == 0] == 0)


def test_same_seed_same_history_for_each_autograd_rule():
    for rule in ("bptt", "tbptt", "readout"):
        spec = RunSpec(task="evidence_accumulation", arch="lif", rule=rule, steps=3, batch=4, seed=2,
                       arch_config={"hidden": 10, "dt": 5.0}, alignment_every=2)
        a, b = [[r.to_dict() for r in Trainer(spec).run()] for _ in range(2)]
        for ra, rb in zip(a, b):
            ra.pop("ms"), rb.pop("ms")
        assert a == b and math.isfinite(a[-1]["loss"])


def test_state_variables_are_declared():
    _, arch, trial = make()
    s = arch.trajectory(trial.inputs)
    shown = arch.variables(s)
    assert set(shown) == set(LIF.state_variables) == {"v", "threshold", "z"}
    assert all(v.shape == (trial.steps, trial.batch, arch.n_units) for v in shown.values())


@pytest.mark.parametrize("fraction", [0.0, 1.0, 1.5, -0.2])
def test_dale_with_an_invalid_excitatory_fraction_names_the_setting_and_its_bounds(fraction):
    spec = RunSpec(task="evidence_accumulation", arch="lif", rule="bptt",
                   arch_config={"dale": True, "excitatory_fraction": fraction})
    with pytest.raises(SettingError) as err:
        resolve(spec)
    assert err.value.field == "arch_config.excitatory_fraction"
    assert "> 0" in str(err.value) or "< 1" in str(err.value)


def test_dale_with_too_few_neurons_for_two_types_says_which_fractions_work():
    spec = RunSpec(task="evidence_accumulation", arch="lif", rule="bptt",
                   arch_config={"dale": True, "excitatory_fraction": 0.97, "hidden": 10})
    with pytest.raises(SettingError, match=r"excitatory_fraction 0.97 .* between 0.1 and 0.9") as err:
        resolve(spec)
    assert err.value.field == "arch_config.excitatory_fraction"  # the API's 422 names this field
