"""Rules declare what they need, architectures what they provide; compatibility is derived, shown and explained."""

import pytest
from torch import nn

from engine.archs import ARCHS
from engine.archs.base import CAPABILITIES, Architecture
from engine.catalog import catalog
from engine.rules import RULES
from engine.spec import Incompatible, RunSpec, compatible, resolve


def test_every_declared_capability_is_documented():
    for name, cls in ARCHS:
        assert cls.provides <= set(CAPABILITIES), name
    for name, cls in RULES:
        assert cls.needs <= set(CAPABILITIES), name


def test_compatibility_is_needs_within_provides_and_the_catalog_shows_it():
    cat = catalog()
    for a, acls in ARCHS:
        fits = {r for r, rcls in RULES if rcls.needs <= acls.provides}
        want = [r for r, _ in RULES  # a rule fits, or a registered variant of it does (eprop → eprop_lif on lif)
                if r in fits or any(vars(v).get("variant_of") == r for name, v in RULES if name in fits)]
        assert cat["compatibility"][a] == want
        assert all(compatible(RULES.get(r), a) for r in want)
    assert {r["name"]: r["needs"] for r in cat["rules"]}["eprop"] == ["unit_locals"]
    assert all("provides" in a for a in cat["archs"]) and set(cat["capabilities"]) == set(CAPABILITIES)


def test_a_new_architecture_is_picked_up_by_what_it_provides(monkeypatch):
    class Bare(Architecture):  # provides only a differentiable step
        name, description, reference = "bare-test", "x", "y"

    monkeypatch.setitem(ARCHS._entries, "bare-test", Bare)
    assert "bare-test" in RULES.get("bptt").supports and "bare-test" not in RULES.get("eprop").supports
    with pytest.raises(Incompatible) as err:
        resolve(RunSpec(task="add", arch="bare-test", rule="eprop"))
    msg = str(err.value)
    assert "needs unit_locals" in msg and "architectures that have it: " in msg and "rnn" in msg
    assert "'bare-test' supports: bptt, tbptt, rtrl, readout" in msg
    assert isinstance(Bare.__mro__[1], type) and issubclass(Bare, nn.Module)


@pytest.mark.parametrize("arch", list(ARCHS.names()))
def test_the_snapshot_lists_the_weight_matrices_the_network_declares(arch):
    from engine.training import Trainer

    trainer = Trainer(RunSpec(task="add", arch=arch, rule="bptt", steps=1, batch=2, arch_config={"hidden": 5}))
    list(trainer.run())
    weights = trainer.snapshot()["weights"]
    names = trainer.arch.weight_names()
    assert "W_out" in names and list(weights) == [k for n in names for k in (n, n + "_change")]
    assert all(weights[n].shape == tuple(getattr(trainer.arch, n).shape) for n in names)


def test_a_rule_that_runs_through_a_variant_lists_the_variants_settings_for_that_network() -> None:
    """e-prop on `lif` runs `eprop_lif`: the catalog gives the form that variant's settings for `lif` (whose defaults
    make a valid run), and none for networks where the rule runs itself."""
    from engine.catalog import catalog
    from engine.spec import RunSpec, resolve

    eprop = next(r for r in catalog()["rules"] if r["name"] == "eprop")
    assert set(eprop["variants"]) == {"lif"}
    variant = eprop["variants"]["lif"]
    assert variant["rule"] == "eprop_lif"
    names = [s["name"] for s in variant["settings"]]
    assert "impl" not in names and "feedback" in names
    defaults = {s["name"]: s["default"] for s in variant["settings"]}
    resolve(RunSpec(task="evidence_accumulation", arch="lif", rule="eprop", rule_config=defaults))
