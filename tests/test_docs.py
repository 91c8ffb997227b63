"""The README documents every registered task, architecture and rule, and the two set-up commands."""

from pathlib import Path

import pytest

from engine.archs import ARCHS
from engine.rules import RULES
from engine.tasks import TASKS

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
NAMES = [n for reg in (TASKS, ARCHS, RULES) for n in reg.names()]


@pytest.mark.parametrize("name", NAMES)
def test_every_registry_entry_has_a_readme_row(name):
    assert f"| `{name}` |" in README


def test_readme_gives_the_two_commands():
    assert "make run" in README and "make test" in README
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_protocol_is_documented():
    assert (ROOT / "docs" / "protocol.md").is_file()
