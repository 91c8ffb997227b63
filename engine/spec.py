"""RunSpec: everything that defines a run — task, architecture, rule, their settings, optimizer, batch, seed.

A spec is plain data (it travels as JSON through the CLI, the API, the URL hash and saved runs).
:func:`resolve` checks it against the registries and returns the validated pieces, raising

* :class:`~engine.registry.UnknownName` for an unknown task / architecture / rule (lists the valid names),
* :class:`Incompatible` when the rule cannot train the architecture: the rule ``needs`` a capability the architecture
  does not ``provide`` (``engine.archs.base.CAPABILITIES``); the message names the missing capability, the
  architectures that have everything the rule needs, and the rules the chosen architecture supports,
* :class:`~engine.config.SettingError` for a setting that is unknown, out of bounds or of the wrong type.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field, ValidationError

from engine.archs import ARCHS
from engine.archs.base import CAPABILITIES
from engine.config import ConfigModel, SettingError, build_config, describe_validation_error
from engine.registry import UnknownName
from engine.rules import RULES
from engine.tasks import TASKS


class Incompatible(ValueError):
    """The chosen rule does not support the chosen architecture."""


def compatible(rule_cls: type, arch_name: str) -> bool:
    """Whether the rule can train the registered architecture: its ``needs`` ⊆ the architecture's ``provides``
    (``CreditRule.supports`` is that set of names), or a variant of it can (:func:`implementation`)."""
    return arch_name in rule_cls.supports or _variant(rule_cls, arch_name) is not None


def _variant(rule_cls: type, arch_name: str) -> type | None:
    """A registered rule that declares ``variant_of`` = the name of ``rule_cls`` and can train ``arch_name``."""
    name = next((n for n, c in RULES if c is rule_cls), None)
    return next((c for _, c in RULES if name is not None and vars(c).get("variant_of") == name
                 and arch_name in c.supports), None)


def implementation(rule_name: str, arch_name: str) -> type:
    """The class that runs rule ``rule_name`` on ``arch_name``: the rule itself where it can train it, else its
    registered variant for that architecture (``eprop`` on the spiking ``lif`` runs ``eprop_lif``, which declares
    ``variant_of = "eprop"``; a run or lesson saved as ``eprop_lif`` still names that rule directly)."""
    rule_cls = RULES.get(rule_name)
    return rule_cls if arch_name in rule_cls.supports else (_variant(rule_cls, arch_name) or rule_cls)


def incompatibility(rule_name: str, rule_cls: type, arch_name: str, arch_cls: type) -> str:
    """Why ``rule_name`` cannot train ``arch_name``: what it needs that is missing, who has it, what would work."""
    missing = sorted(set(rule_cls.needs) - set(arch_cls.provides))
    have = sorted(rule_cls.supports)
    ok = [name for name, r in RULES if compatible(r, arch_name)]
    need = (f"it needs {', '.join(missing)} ({'; '.join(CAPABILITIES.get(m, m) for m in missing)}), which "
            f"{arch_name!r} does not provide; architectures that have it: {', '.join(have) or 'none yet'}; "
            if missing else "")
    return (f"rule {rule_name!r} cannot train architecture {arch_name!r}; {need}"
            f"{arch_name!r} supports: {', '.join(ok)}")


class OptimConfig(ConfigModel):
    name: Literal["adam", "sgd"] = "adam"
    """Optimizer that applies the rule's gradient: Adam or plain stochastic gradient descent."""
    lr: float = Field(0.01, gt=0.0, le=10.0)
    """Learning rate (step size)."""
    momentum: float = Field(0.0, ge=0.0, lt=1.0)
    """Momentum for SGD (ignored by Adam)."""
    clip: float = Field(1.0, ge=0.0, le=1e6)
    """Clip the gradient's overall norm to this value before each update (0: no clipping). On by default: without
    it, Adam at lr 0.01 lets BPTT solve DNMS and then lose it again to a few large gradients."""
    schedule: Literal["constant", "cosine"] = "cosine"
    """How the step size changes over the run: constant, or a cosine decay from the learning rate down to
    ``final_fraction`` of it at the last update. Cosine by default: with a constant step size BPTT on evidence
    accumulation and e-prop on Add climbed back late in the run (measured); decayed, late updates settle."""
    final_fraction: float = Field(0.1, ge=0.0, le=1.0)
    """Cosine schedule only: the step size at the last update, as a fraction of the learning rate."""


class RunSpec(ConfigModel):
    task: str = "dnms"
    """Task name (see the catalog)."""
    task_config: dict[str, Any] = {}
    """Task settings; missing ones take their defaults."""
    arch: str = "rnn"
    """Architecture name."""
    arch_config: dict[str, Any] = {}
    """Architecture settings."""
    rule: str = "bptt"
    """Credit rule name."""
    rule_config: dict[str, Any] = {}
    """Credit-rule settings."""
    optim: OptimConfig = OptimConfig()
    """Optimizer settings."""
    batch: int = Field(32, ge=1, le=1024)
    """Trials per update."""
    seed: int = Field(0, ge=0, le=2**31 - 1)
    """Seed for trials, initial weights and the rule's own randomness: the same seed gives the same run."""
    steps: int = Field(500, ge=1, le=10_000_000)
    """Number of updates."""
    alignment_every: int = Field(10, ge=0, le=1_000_000)
    """Every K updates, also compute the true BPTT gradient and report the cosine with the rule's (0: never)."""
    dtype: Literal["float32", "float64"] = "float32"
    """Floating-point precision (float64 for checks)."""


@dataclass
class Resolved:
    """A checked spec: the classes and validated configs of its three parts."""

    spec: RunSpec
    task_cls: type
    task_config: ConfigModel
    arch_cls: type
    arch_config: ConfigModel
    rule_cls: type
    rule_config: ConfigModel


def parse_spec(data: dict[str, Any]) -> RunSpec:
    """Validate raw data as a RunSpec; errors name the field."""
    try:
        return RunSpec.model_validate(data)
    except ValidationError as err:
        raise describe_validation_error("", err, RunSpec) from None


def network_defaults(task_cls: type, arch_cls: type) -> dict[str, Any]:
    """The task's own defaults for network settings (``Task.network``, e.g. Add's faster leak α = 0.5) that the
    architecture has; the spec's ``arch_config`` overrides them, and every rule of a comparison gets the same."""
    fields = arch_cls.Config.model_fields
    return {k: v for k, v in getattr(task_cls, "network", {}).items() if k in fields}


def resolve(spec: RunSpec) -> Resolved:
    task_cls = TASKS.get(spec.task)
    arch_cls = ARCHS.get(spec.arch)
    arch_data = {**network_defaults(task_cls, arch_cls), **spec.arch_config}
    rule_cls = implementation(spec.rule, spec.arch)
    if not compatible(rule_cls, spec.arch):
        raise Incompatible(incompatibility(spec.rule, rule_cls, spec.arch, arch_cls))
    return Resolved(
        spec,
        task_cls, build_config(task_cls.Config, spec.task_config, "task_config"),
        arch_cls, build_config(arch_cls.Config, arch_data, "arch_config"),
        rule_cls, build_config(rule_cls.Config, spec.rule_config, "rule_config"),
    )


def full_config(r: Resolved) -> dict[str, Any]:
    """The spec with every default filled in (what a run records as its config)."""
    return r.spec.model_copy(update={
        "task_config": r.task_config.model_dump(),
        "arch_config": r.arch_config.model_dump(),
        "rule_config": r.rule_config.model_dump(),
    }).model_dump()


__all__ = ["Incompatible", "compatible", "implementation", "incompatibility", "OptimConfig", "Resolved", "RunSpec", "SettingError", "UnknownName", "full_config",
           "network_defaults", "parse_spec", "resolve"]
