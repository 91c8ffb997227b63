"""Tasks. Each import below registers one task: this list is the registration list."""

from engine.registry import Registry
from engine.tasks.base import Task

TASKS: Registry[type[Task]] = Registry("task")

from engine.tasks import add  # noqa: E402,F401
from engine.tasks import dnms  # noqa: E402,F401
from engine.tasks import evidence_accumulation  # noqa: E402,F401
from engine.tasks import pattern_generation  # noqa: E402,F401
from engine.tasks import path_integration  # noqa: E402,F401
from engine.tasks import store_recall  # noqa: E402,F401
