"""Tasks. Each import below registers one task: this list is the registration list."""

from engine.registry import Registry
from engine.tasks.base import Task

TASKS: Registry[type[Task]] = Registry("task")

from engine.tasks import add  # noqa: E402,F401
