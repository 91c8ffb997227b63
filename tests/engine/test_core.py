"""Registry, spec and trainer behaviour: clear errors, determinism, divergence, cost accounting."""

import math

import pytest
import torch

from engine.archs import ARCHS
from engine.config import SettingError
from engine.registry import Registry, UnknownName
from engine.rules import RULES
from engine.spec import Incompatible, RunSpec, full_config, parse_spec, resolve
from engine.tasks import TASKS
from engine.training import Trainer


def test_unknown_names_list_valid_choices():
    for field, registry in (("task", TASKS), ("arch", ARCHS), ("rule", RULES)):
        with pytest.raises(UnknownName) as err:
            resolve(RunSpec(**{field: "no-such-thing"}))
        for name in registry.names():
            assert name in str(err.value)


def test_registry_refuses_duplicates():
    reg: Registry[type] = Registry("widget")

    @reg.register("a")
    class A:
        pass

    with pytest.raises(ValueError, match="twice"):
        reg.register("a")(type("B", (), {}))
    assert reg.get("a") is A and "a" in reg and reg.names() == ["a"]


def test_incompatible_pair_says_what_the_architecture_supports():
    class Picky(RULES.get("bptt")):
        supports = frozenset({"no-arch"})

    RULES._entries["picky-test"] = Picky
    try:
        with pytest.raises(Incompatible) as err:
            resolve(RunSpec(task="add", rule="picky-test"))
        assert "bptt" in str(err.value) and "'rnn' supports" in str(err.value)
    finally:
        del RULES._entries["picky-test"]


@pytest.mark.parametrize("data, field", [
    ({"task": "add", "task_config": {"t1": 0}}, "task_config.t1"),
    ({"task": "add", "task_config": {"t1": "many"}}, "task_config.t1"),
    ({"task": "add", "task_config": {"nonsense": 1}}, "task_config.nonsense"),
    ({"task": "add", "arch_config": {"hidden": 100000}}, "arch_config.hidden"),
    ({"task": "add", "optim": {"lr": -1}}, "optim.lr"),
    ({"task": "add", "batch": 0}, "batch"),
])
def test_bad_settings_name_the_field(data, field):
    with pytest.raises(SettingError) as err:
        resolve(parse_spec(data))
    assert err.value.field == field
    assert str(err.value).startswith(field)


def test_bounds_are_in_the_message():
    with pytest.raises(SettingError, match=r">= 2 and <= 1024"):
        resolve(parse_spec({"task": "add", "arch_config": {"hidden": 1}}))


def test_same_seed_same_history_other_seed_differs():
    spec = RunSpec(task="add", steps=4, batch=8, seed=3)
    a, b = Trainer(spec), Trainer(spec)
    la = [r.loss for r in a.run()]
    lb = [r.loss for r in b.run()]
    assert la == lb
    c = Trainer(spec.model_copy(update={"seed": 4}))
    assert [r.loss for r in c.run()] != la


def test_seeds_are_shared_across_rules_for_fair_comparison():
    a = Trainer(RunSpec(task="add", rule="bptt", seed=1))
    b = Trainer(RunSpec(task="add", rule="readout", seed=1))
    for k, p in a.arch.named_parameters():
        assert torch.equal(p, dict(b.arch.named_parameters())[k])
    assert torch.equal(a.task.sample(4, a.trials).inputs, b.task.sample(4, b.trials).inputs)


def test_divergence_stops_cleanly_with_history_intact():
    spec = RunSpec(task="add", steps=50, arch_config={"nonlinearity": "relu", "gain": 1.5, "alpha": 1.0},
                   optim={"name": "sgd", "lr": 5.0, "clip": 0.0})  # clipping (on by default) would save it
    t = Trainer(spec)
    records = list(t.run())
    assert t.status == "diverged"
    assert 1 < len(records) < 50
    assert all(math.isfinite(r.loss) for r in records[:-1])
    assert not math.isfinite(records[-1].loss)
    assert t.summary()["final"]["status"] == "diverged"
    assert len(t.summary()["history"]) == len(records)


def test_bptt_alignment_with_itself_is_one_and_only_every_k():
    t = Trainer(RunSpec(task="add", steps=6, batch=4, alignment_every=3))
    records = list(t.run())
    assert [r.alignment is not None for r in records] == [False, False, True, False, False, True]
    assert records[2].alignment["all"] == pytest.approx(1.0, abs=1e-5)


def test_set_lr_changes_the_optimizer_and_refuses_nonsense():
    t = Trainer(RunSpec(task="add"))
    t.set_lr(0.123)
    assert all(g["lr"] == 0.123 for g in t.optimizer.param_groups)
    assert t.summary()["config"]["optim"]["lr"] == 0.123
    for bad in (0.0, -1.0, float("nan"), 11.0):
        with pytest.raises(ValueError):
            t.set_lr(bad)


def test_bptt_state_grows_with_trial_length():
    t = Trainer(RunSpec(task="add"))
    assert t.oracle.state_bytes(8, 200) == 2 * t.oracle.state_bytes(8, 100) > 0


def test_full_config_fills_every_default():
    cfg = full_config(resolve(RunSpec(task="add")))
    assert set(cfg["task_config"]) == {"t1", "t2", "steps"}
    assert cfg["arch_config"]["hidden"] == 32
    assert parse_spec(cfg) == parse_spec(cfg)  # round-trips as a spec


def test_snapshot_shapes():
    t = Trainer(RunSpec(task="add", steps=2, arch_config={"hidden": 7}))
    list(t.run())
    snap = t.snapshot()
    T = t.example.steps
    assert snap["weights"]["W_rec"].shape == (7, 7)
    assert snap["example"]["activity"].shape == (T, 7)
    assert snap["example"]["outputs"].shape == (T, 2)
    assert abs(snap["example"]["outputs"].sum(-1) - 1).max() < 1e-5  # probabilities for cross-entropy tasks
    assert snap["weights"]["W_rec_change"].any()


def test_late_window_is_the_last_tenth_but_at_least_ten():
    from engine.training import late_window

    assert [late_window(n) for n in (0, 3, 10, 50, 100, 300, 1001)] == [0, 3, 10, 10, 10, 30, 101]


def test_late_mean_averages_the_window_and_skips_missing_alignment():
    from engine.training import StepRecord, late_mean

    history = [StepRecord(i + 1, loss=float(i), accuracy=0.0, ms=1.0) for i in range(200)]
    history[-1].alignment = {"recurrent": 0.2, "all": 0.9}
    history[-11].alignment = {"recurrent": None, "all": 0.5}
    history[-21].alignment = {"recurrent": 0.4, "all": 0.7}
    assert late_mean(history, "loss") == pytest.approx(sum(range(180, 200)) / 20)  # last 20 of 200
    assert late_mean(history, "recurrent") == pytest.approx(0.2)  # the None and the record outside are skipped
    assert late_mean(history, "all") == pytest.approx(0.7)
    assert late_mean([r.to_dict() for r in history], "all") == pytest.approx(0.7)  # JSON history too
    assert late_mean([], "loss") is None and late_mean(history[:5], "recurrent") is None


def test_summary_reports_late_means_and_the_last_batch():
    t = Trainer(RunSpec(task="add", steps=30, batch=4, alignment_every=5, rule="eprop"))
    records = list(t.run())
    final = t.summary()["final"]
    assert final["window"] == 10
    assert final["loss"] == pytest.approx(sum(r.loss for r in records[-10:]) / 10)
    assert final["accuracy"] == pytest.approx(sum(r.accuracy for r in records[-10:]) / 10)
    assert final["last_loss"] == records[-1].loss and final["last_accuracy"] == records[-1].accuracy
    assert final["loss"] != final["last_loss"]
    measured = [r.alignment for r in records[-10:] if r.alignment]
    assert len(measured) == 2
    assert final["alignment"]["recurrent"] == pytest.approx(sum(a["recurrent"] for a in measured) / 2)
    assert final["alignment"]["all"] == pytest.approx(sum(a["all"] for a in measured) / 2)
    assert final["steps"] == 30 and final["status"] == "done"
