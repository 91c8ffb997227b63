"""The estimate shown before Play (engine.estimate Eq. 1): the cost figures of the run without training it, and a
time per update good enough to rank the rules and to warn about a slow configuration. Only orderings and the slow
flag are asserted here; how close the times come to measured ones is for bench/."""

from __future__ import annotations

import pytest

from engine.config import SettingError
from engine.estimate import estimate
from engine.registry import UnknownName
from engine.spec import RunSpec
from engine.training import Trainer

BASE = dict(task="dnms", task_config={"delay": 10}, batch=32, arch_config={"hidden": 64})


def spec(rule: str, hidden: int = 64, **extra) -> RunSpec:
    return RunSpec(rule=rule, **{**BASE, "arch_config": {"hidden": hidden}, **extra})


def test_estimate_has_the_cost_figures_of_the_run():
    s = spec("eprop", 32)
    e = estimate(s)
    cost = Trainer(s).cost()
    assert list(e) == [*cost, "slow"]
    assert {k: v for k, v in e.items() if k not in ("ms_per_update", "slow")} == {
        k: v for k, v in cost.items() if k != "ms_per_update"}
    assert e["ms_per_update"] > 0 and e["slow"] is False


def test_rtrl_ranks_far_above_bptt_and_the_online_rules():
    ms = {rule: estimate(spec(rule))["ms_per_update"] for rule in ("bptt", "rtrl", "eprop", "readout")}
    assert ms["rtrl"] > 10 * ms["bptt"]
    assert ms["rtrl"] > 10 * ms["eprop"]
    assert ms["readout"] < ms["bptt"]


def test_rtrl_at_128_units_is_flagged_slow_and_bptt_is_not():
    assert estimate(spec("rtrl", 128))["slow"] is True
    assert estimate(spec("bptt", 128))["slow"] is False
    assert estimate(spec("rtrl", 8))["slow"] is False


def test_estimate_refuses_what_a_run_refuses():
    with pytest.raises(SettingError):
        estimate(spec("rtrl", 256, batch=64))
    with pytest.raises(UnknownName):
        estimate(spec("no-such-rule"))
