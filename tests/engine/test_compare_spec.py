"""Comparison and sweep specs expand into validated run specs that share the task and the seed."""

import pytest
from pydantic import ValidationError

from engine.compare import ComparisonSpec, SweepSpec, member_specs, set_path, sweep_points
from engine.config import SettingError


def test_members_share_task_and_seed_and_differ_by_their_overrides() -> None:
    cmp = ComparisonSpec(base={"task": "dnms", "seed": 3, "task_config": {"delay": 20}},
                         members=[{"rule": "bptt"}, {"rule": "eprop", "arch.hidden": 16}])
    a, b = member_specs(cmp)
    assert (a.rule, b.rule) == ("bptt", "eprop")
    assert a.seed == b.seed == 3 and a.task_config == b.task_config == {"delay": 20}
    assert b.arch_config == {"hidden": 16} and a.arch_config == {}


def test_a_member_may_not_change_the_seed_and_bad_paths_name_the_member() -> None:
    with pytest.raises(ValidationError, match="shares the base's seed"):
        ComparisonSpec(members=[{"seed": 1}, {}])
    with pytest.raises(SettingError) as err:
        member_specs(ComparisonSpec(members=[{}, {"bogus.x": 1}]))
    assert err.value.field.startswith("members.1.") and "valid sections" in str(err.value)
    with pytest.raises(SettingError, match="valid run settings"):
        set_path({}, "nonsense", 1)


def test_sweep_expands_value_major_over_rules_and_seeds() -> None:
    pts = sweep_points(SweepSpec(setting="task.delay", values=[5, 10], rules=["bptt", "readout"], seeds=[0, 1]))
    assert [(r, v, s) for r, v, s, _ in pts][:4] == [("bptt", 5, 0), ("bptt", 5, 1), ("readout", 5, 0), ("readout", 5, 1)]
    assert all(spec.task_config["delay"] == v and spec.rule == r and spec.seed == s for r, v, s, spec in pts)

