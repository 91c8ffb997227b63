"""The README documents every registered task, architecture and rule, and the two set-up commands."""

import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

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


def _literals(model: type) -> list[str]:
    """The string values a pydantic model's ``type`` or ``action`` field is pinned to."""
    out = []
    for name in ("type", "action"):
        field = model.model_fields.get(name) if hasattr(model, "model_fields") else None
        if field is not None:
            out += [a for a in typing.get_args(field.annotation) if isinstance(a, str)]
    return out


def test_every_message_type_control_and_status_is_documented():
    import app.protocol as protocol

    doc = (ROOT / "docs" / "protocol.md").read_text()
    models = [m for m in vars(protocol).values() if isinstance(m, type) and issubclass(m, BaseModel)]
    names = sorted({v for m in models for v in _literals(m)} | set(typing.get_args(protocol.RunStatus)))
    assert len(names) >= 20, names  # every control action, client and server message type, and run status
    missing = [n for n in names if f"`{n}`" not in doc and f'"{n}"' not in doc]
    assert not missing, f"docs/protocol.md does not mention: {missing}"
    for route in ("/api/runs/{id}/keyframes", "/api/runs/{id}/reopen", "/api/runs/{id}/export/report.html"):
        assert route in doc
