"""The settings schema that the catalog, CLI and forms read: types, bounds, choices and help of every field."""


def test_an_optional_bounded_setting_keeps_its_type_and_bounds_in_the_schema() -> None:
    from typing import Optional

    from pydantic import Field

    from engine.config import ConfigModel, settings_schema

    class C(ConfigModel):
        window: Optional[int] = Field(None, ge=1, le=50)
        """A window, or none."""

    (entry,) = settings_schema(C)
    assert entry["type"] == "integer" and entry["min"] == 1 and entry["max"] == 50 and entry["nullable"] is True
