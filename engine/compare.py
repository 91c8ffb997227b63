"""Comparisons and sweeps as plain data: several runs that share one task, its trials and the initial weights.

A **comparison** is a base run spec plus two to six *members*, each a small set of overrides (a rule, an
architecture, one setting). Every member runs the base's task with the base's seed, so all members see the same
trials, and members with the same architecture settings start from the same weights (the engine's generators are
derived from the seed and a purpose string, never shared).

A **sweep** is one setting over a list of values, for several rules, each point averaged over seeds.

Settings are addressed by dotted paths, as on the command line (``--set``)::

    task.delay  → task_config.delay      arch.hidden → arch_config.hidden
    rule.x      → rule_config.x          optim.lr    → optim.lr          batch, steps, seed → run level

This module only expands specs (:func:`member_specs`, :func:`sweep_points`); training them is the caller's job.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import Field, field_validator

from engine.config import ConfigModel, SettingError
from engine.spec import RunSpec, parse_spec

#: Dotted-path sections and the RunSpec field each one addresses.
SECTIONS = {"task": "task_config", "arch": "arch_config", "rule": "rule_config", "optim": "optim"}


def set_path(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """Return a copy of spec data with the dotted setting ``path`` (``task.delay``, ``batch``) set to ``value``."""
    out = copy.deepcopy(data)
    head, dot, rest = path.partition(".")
    if not dot:
        if head not in RunSpec.model_fields:
            raise SettingError(path, f"unknown setting; valid run settings are: {', '.join(RunSpec.model_fields)}; "
                                     f"or a section path: {', '.join(s + '.NAME' for s in SECTIONS)}")
        out[head] = value
        return out
    if head not in SECTIONS or not rest:
        raise SettingError(path, f"unknown section {head!r}; valid sections are: {', '.join(SECTIONS)}")
    section = dict(out.get(SECTIONS[head]) or {})
    section[rest] = value
    out[SECTIONS[head]] = section
    return out


def apply_overrides(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Apply a member's overrides to base spec data. Keys are dotted paths or whole RunSpec fields (``rule``)."""
    out = copy.deepcopy(base)
    for key, value in overrides.items():
        out = set_path(out, key, value)
    return out


class ComparisonSpec(ConfigModel):
    base: dict[str, Any] = {}
    """The run spec every member starts from (task, seed, batch, steps, …), as accepted by ``POST /api/runs``."""
    members: list[dict[str, Any]] = Field(min_length=2, max_length=6)
    """Two to six members, each a set of overrides of the base: ``{"rule": "eprop"}``,
    ``{"rule": "bptt", "task.delay": 40}``. Task and seed are the base's for every member."""
    lockstep: bool = True
    """Train the members in lock-step (update k of every member before update k+1 of any), so curves stay
    comparable at every moment; off: each member at its own full speed."""

    @field_validator("members")
    @classmethod
    def _no_task_or_seed(cls, members: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for i, m in enumerate(members):
            for key in ("task", "seed"):
                if key in m:
                    raise ValueError(f"member {i} sets {key!r}: every member of a comparison shares the base's {key}")
        return members


def member_specs(cmp: ComparisonSpec) -> list[RunSpec]:
    """The validated run spec of every member (errors name the member and the setting)."""
    out = []
    for i, overrides in enumerate(cmp.members):
        try:
            out.append(parse_spec(apply_overrides(cmp.base, overrides)))
        except SettingError as err:
            raise SettingError(f"members.{i}.{err.field}", err.message) from None
    return out


class SweepSpec(ConfigModel):
    base: dict[str, Any] = {}
    """The run spec every point starts from."""
    setting: str
    """The dotted setting that varies, e.g. ``task.delay``."""
    values: list[Any] = Field(min_length=1, max_length=20)
    """The values it takes, in order (the x axis)."""
    rules: list[str] = Field(min_length=1, max_length=6)
    """One line per rule."""
    seeds: list[int] = Field([0], min_length=1, max_length=10)
    """Each point is the mean over these seeds."""


def sweep_points(sw: SweepSpec) -> list[tuple[str, Any, int, RunSpec]]:
    """Every (rule, value, seed, spec) of a sweep, value-major so that a sweep fills in from the left."""
    out = []
    for value in sw.values:
        for rule in sw.rules:
            for seed in sw.seeds:
                data = set_path(set_path(set_path(sw.base, "rule", rule), "seed", seed), sw.setting, value)
                try:
                    out.append((rule, value, seed, parse_spec(data)))
                except SettingError as err:
                    raise SettingError(f"{sw.setting}={value!r} ({rule}): {err.field}", err.message) from None
    return out


__all__ = ["ComparisonSpec", "SECTIONS", "SweepSpec", "apply_overrides", "member_specs", "set_path", "sweep_points"]
