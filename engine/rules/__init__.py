"""Credit rules. Each import below registers one rule: this list is the registration list."""

from engine.registry import Registry
from engine.rules.base import CreditRule

RULES: Registry[type[CreditRule]] = Registry("credit rule")

from engine.rules import bptt  # noqa: E402,F401
