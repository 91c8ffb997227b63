"""Credit rules. Each import below registers one rule: this list is the registration list."""

from engine.registry import Registry
from engine.rules.base import CreditRule

RULES: Registry[type[CreditRule]] = Registry("credit rule")

from engine.rules import bptt  # noqa: E402,F401
from engine.rules import tbptt  # noqa: E402,F401
from engine.rules import rtrl  # noqa: E402,F401
from engine.rules import eprop  # noqa: E402,F401
from engine.rules import rflo  # noqa: E402,F401
from engine.rules import readout  # noqa: E402,F401
from engine.rules import snap1  # noqa: E402,F401
from engine.rules import eprop_lif  # noqa: E402,F401
from engine.rules import mdgl  # noqa: E402,F401
from engine.rules import uoro  # noqa: E402,F401
from engine.rules import node_perturbation  # noqa: E402,F401
