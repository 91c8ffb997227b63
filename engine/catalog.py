"""The catalog: every task, architecture and rule with its settings, and which rules train which architecture
(derived: a rule's ``needs`` against an architecture's ``provides``, both listed, with ``capabilities`` saying what
each name means).

This one structure feeds ``creditlab catalog --json``, ``GET /api/catalog`` and the generated forms, so a new
registry entry appears everywhere with no other edit.
"""

from __future__ import annotations

from typing import Any

from engine.archs import ARCHS
from engine.config import settings_schema
from engine.rules import RULES
from engine.archs.base import CAPABILITIES
from engine.spec import OptimConfig, RunSpec, compatible, implementation
from engine.tasks import TASKS


def _entry(name: str, cls: Any) -> dict[str, Any]:
    return {
        "name": name,
        "description": cls.description,
        "reference": cls.reference,
        "settings": settings_schema(cls.Config),
    }


def _name(rule_cls: type) -> str:
    return next(n for n, c in RULES if c is rule_cls)


def catalog() -> dict[str, Any]:
    rules = []
    for name, cls in RULES:
        e = _entry(name, cls)
        e.update(exact=cls.exact, online=cls.online, stochastic=cls.stochastic, approximates=cls.approximates,
                 needs=sorted(cls.needs), supports=sorted(cls.supports))
        # Where the rule runs on a network through a registered variant (``eprop`` on ``lif``), the settings the
        # form must show there are the variant's: {arch: {"rule": variant name, "settings": [...]}}.
        e["variants"] = {a: {"rule": _name(impl), "settings": settings_schema(impl.Config)}
                         for a, _ in ARCHS if (impl := implementation(name, a)) is not cls and a not in cls.supports}
        rules.append(e)
    tasks = []
    for name, cls in TASKS:
        e = _entry(name, cls)
        e.update(loss=cls.loss_kind, chance=cls.chance, accuracy_note=cls.accuracy_note,
                 loss_floors=[dict(f) for f in cls.loss_floors],
                 # the task's own defaults for network settings (e.g. Add's α), so the page's forms show them
                 network=dict(getattr(cls, "network", {}) or {}))
        tasks.append(e)
    archs = []
    for name, cls in ARCHS:
        e = _entry(name, cls)
        e.update(provides=sorted(cls.provides))
        archs.append(e)
    compat = {a: [r for r, rc in RULES if compatible(rc, a)] for a, _ in ARCHS}
    run_settings = [s for s in settings_schema(RunSpec) if s["name"] in ("batch", "seed", "steps", "alignment_every")]
    return {
        "tasks": tasks,
        "archs": archs,
        "rules": rules,
        "compatibility": compat,
        "capabilities": dict(CAPABILITIES),
        "optim": settings_schema(OptimConfig),
        "run": run_settings,
    }
