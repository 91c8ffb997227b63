"""Architectures. Each import below registers one architecture: this list is the registration list."""

from engine.registry import Registry
from engine.archs.base import Architecture

ARCHS: Registry[type[Architecture]] = Registry("architecture")

from engine.archs import rnn  # noqa: E402,F401
from engine.archs import gru  # noqa: E402,F401
from engine.archs import lif  # noqa: E402,F401
