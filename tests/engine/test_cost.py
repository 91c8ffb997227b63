"""The cost meter: each rule's state is its own documented formula (base Eq. 3 with the rule's two terms), the
online rules' state does not grow with the trial length, BPTT's does, and the chunk buffer is reported apart and
bounded by the trial. Formulas are written out here again, independently of the rules' code.

W = bytes per number (float32: 4), B batch, n units, S = n state variables, I inputs, O outputs, m = n + I + 1
presynaptic entries, P = n·m recurrent parameters.
"""

from __future__ import annotations

import pytest
import torch

from engine.archs.rnn import RNN, RNNConfig
from engine.rules import RULES
from engine.spec import RunSpec
from engine.tasks.add import Add, AddConfig
from engine.training import Trainer

W, BATCH = 4, 8
I, O = 2, 2  # Add: two input channels, two output classes


def eprop_like(n: int, T: int, config: dict, alpha: float) -> int:
    m = n + I + 1
    trace = BATCH * n * m if alpha < 1 else 0
    feedback = 0 if config.get("feedback", "random") == "symmetric" else n * O
    return (trace + BATCH * (m + 3 * n + O)) * W + feedback * W


FORMULAS = {  # (rule, config) -> state_bytes(n, T, alpha)
    ("bptt", "{}"): lambda n, T, c, a: T * BATCH * 2 * n * W,
    ("tbptt", "{}"): lambda n, T, c, a: min(10, T) * BATCH * 2 * n * W,
    ("tbptt", "{'window': 3}"): lambda n, T, c, a: min(3, T) * BATCH * 2 * n * W,
    ("rtrl", "{}"): lambda n, T, c, a: BATCH * n * (n * (n + I + 1) + 1) * W,
    ("eprop", "{}"): lambda n, T, c, a: eprop_like(n, T, {"feedback": "symmetric"}, a),
    ("eprop", "{'impl': 'stepwise'}"): lambda n, T, c, a: eprop_like(n, T, {"feedback": "symmetric"}, a),
    ("eprop", "{'feedback': 'random'}"): lambda n, T, c, a: eprop_like(n, T, c, a),
    ("rflo", "{}"): lambda n, T, c, a: eprop_like(n, T, {"feedback": "random"}, a),
    ("rflo", "{'impl': 'stepwise'}"): lambda n, T, c, a: eprop_like(n, T, {"feedback": "random"}, a),
    ("readout", "{}"): lambda n, T, c, a: BATCH * n * W,
    # SnAp-1: e-prop's state with the trace kept even at α = 1 (its filter, J's diagonal, is not zero there)
    ("snap1", "{}"): lambda n, T, c, a: (BATCH * n * (n + I + 1) + BATCH * ((n + I + 1) + 3 * n + O)) * W,
    ("uoro", "{}"): lambda n, T, c, a: BATCH * (2 * n + n * (n + I + 1)) * W,  # s̃, the state and θ̃
    ("node_perturbation", "{}"): lambda n, T, c, a: (BATCH * (n * (n + I + 1) + 2 * n) + 1) * W,
}
CASES = [(name, eval(config)) for name, config in FORMULAS]


def make(name: str, config: dict, n: int, alpha: float = 0.5):
    task = Add(AddConfig())
    arch = RNN(RNNConfig(hidden=n, alpha=alpha), task.n_inputs, task.n_outputs, torch.Generator().manual_seed(0))
    cls = RULES.get(name)
    return cls(cls.Config(**config), arch, torch.Generator().manual_seed(1))


@pytest.mark.parametrize("name, config", CASES, ids=[f"{n}-{c}" for n, c in FORMULAS])
@pytest.mark.parametrize("alpha", [0.5, 1.0])
def test_state_bytes_is_the_rules_formula(name, config, alpha):
    formula = FORMULAS[(name, str(config))]
    for n, T in ((8, 5), (24, 40)):
        rule = make(name, config, n, alpha)
        assert rule.state_bytes(BATCH, T) == formula(n, T, config, alpha), (n, T)
        fixed, per_step = rule.memory(BATCH)
        if name != "tbptt" or T >= rule.config.window:  # base Eq. (3); TBPTT caps it at T < k (its Eq. 4)
            assert rule.state_bytes(BATCH, T) == fixed + per_step * T


@pytest.mark.parametrize("name", ["eprop", "rflo"])
@pytest.mark.parametrize("impl", ["chunked", "stepwise"])
def test_trace_rules_state_does_not_change_with_T_and_is_the_same_for_both_implementations(name, impl):
    rule = make(name, {"impl": impl}, 32)
    sizes = {rule.state_bytes(BATCH, T) for T in (5, 22, 52, 400)}
    assert len(sizes) == 1
    assert rule.memory(BATCH)[1] == 0
    assert sizes == {make(name, {"impl": "stepwise"}, 32).state_bytes(BATCH, 22)}
    assert sizes.pop() < make("bptt", {}, 32).state_bytes(BATCH, 22)  # the trace is below BPTT at DNMS size


def test_bptt_state_doubles_when_T_doubles():
    rule = make("bptt", {}, 32)
    assert rule.state_bytes(BATCH, 44) == 2 * rule.state_bytes(BATCH, 22) > 0
    assert rule.memory(BATCH) == (0, BATCH * 64 * W)


@pytest.mark.parametrize("name", ["eprop", "rflo"])
def test_chunk_buffer_is_apart_and_bounded_by_the_trial(name):
    rule = make(name, {"chunk": 16}, 32)
    n, m = 32, 32 + I + 1
    step = BATCH * (m + 3 * n + O) * W  # what one step of the chunk holds
    for T in (1, 5, 15, 16, 40, 400):
        buffer = rule.buffer_bytes(BATCH, T)
        assert buffer == rule.chunk_length(T) * step <= min(16, T) * step  # equal chunks of at most 16 steps
        assert buffer <= T * step  # never more than the trial's own steps
    assert make(name, {"impl": "stepwise"}, 32).buffer_bytes(BATCH, 40) == 0
    assert make("bptt", {}, 32).buffer_bytes(BATCH, 40) == 0


def test_trainer_cost_has_the_contract_keys():
    t = Trainer(RunSpec(task="add", rule="eprop", batch=BATCH, steps=1, task_config={"steps": 30}))
    list(t.run())
    c = t.cost()
    assert list(c) == ["state_bytes", "fixed_bytes", "per_step_bytes", "buffer_bytes", "bptt_state_bytes",
                       "bptt_fixed_bytes", "bptt_per_step_bytes", "steps", "batch", "ms_per_update"]
    assert c["steps"] == 30 and c["batch"] == BATCH and c["ms_per_update"] > 0
    assert c["state_bytes"] == c["fixed_bytes"] + 30 * c["per_step_bytes"]
    assert c["bptt_state_bytes"] == c["bptt_fixed_bytes"] + 30 * c["bptt_per_step_bytes"] == t.oracle.state_bytes(
        BATCH, 30)
    assert c["buffer_bytes"] == t.rule.buffer_bytes(BATCH, 30) > 0
    assert t.snapshot()["cost"]["buffer_bytes"] == c["buffer_bytes"]
    final = t.summary()["final"]
    assert final["buffer_bytes"] == c["buffer_bytes"] and final["trial_steps"] == 30 and final["steps"] == 1


def test_rtrl_refusal_says_what_to_lower_without_repeating_the_field():
    spec = RunSpec(task="add", rule="rtrl", batch=64, arch_config={"hidden": 256})
    with pytest.raises(ValueError) as err:
        Trainer(spec)
    message = err.value.message  # SettingError: the text after the field name
    assert not message.startswith("rule") and "max_memory_mb" not in message and "raise" not in message
    assert "MiB" in message and "256 hidden units" in message and "batch 64" in message
    rule = make("rtrl", {}, 256)
    n = int(message.split("hidden size to ")[1].split()[0])
    b = int(message.split("batch to ")[1].split()[0])
    budget = 512 * 2**20
    assert make("rtrl", {}, n).influence_bytes(64) <= budget < make("rtrl", {}, n + 1).influence_bytes(64)
    assert rule.influence_bytes(b) <= budget < rule.influence_bytes(b + 1)


# The spiking rules on ``lif`` (no bias: m = n + I presynaptic entries; adaptive neurons round(f·n) without Dale's
# law; the leaky readout filters every trace, so e-prop keeps B·n·m filtered entries).
def eprop_lif_like(n: int, feedback: str, f: float = 0.5) -> int:
    m, na = n + I, round(f * n)
    traces = BATCH * m + BATCH * na * m + BATCH * n * m
    return (traces + BATCH * (m + 5 * n + O)) * W + (0 if feedback == "symmetric" else n * O * W)


LIF_FORMULAS = {  # rule -> (fixed(n), per step(n))
    "eprop_lif": (lambda n: eprop_lif_like(n, "random"), lambda n: 0),
    # MDGL keeps, besides e-prop's traces, every step's (2m + 4n + O) numbers: its signal needs the future
    "mdgl": (lambda n: eprop_lif_like(n, "symmetric"), lambda n: BATCH * (2 * (n + I) + 4 * n + O) * W),
}


def test_every_rule_has_a_formula_here():
    assert {name for name, _ in FORMULAS} | set(LIF_FORMULAS) == set(RULES.names())


@pytest.mark.parametrize("name", sorted(LIF_FORMULAS))
def test_spiking_rules_state_bytes_are_their_formulas(name):
    from engine.archs.lif import LIF, LIFConfig

    fixed, per_step = LIF_FORMULAS[name]
    for n, T in ((8, 5), (24, 40)):
        task = Add(AddConfig())
        arch = LIF(LIFConfig(hidden=n), task.n_inputs, task.n_outputs, torch.Generator().manual_seed(0))
        cls = RULES.get(name)
        rule = cls(cls.Config(), arch, torch.Generator().manual_seed(1))
        assert rule.memory(BATCH) == (fixed(n), per_step(n)), (n, rule.memory(BATCH))
        assert rule.state_bytes(BATCH, T) == fixed(n) + per_step(n) * T
