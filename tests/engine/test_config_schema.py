"""The settings schema that the catalog, CLI and forms read: types, bounds, choices and help of every field."""

import pytest


def test_an_optional_bounded_setting_keeps_its_type_and_bounds_in_the_schema() -> None:
    from typing import Optional

    from pydantic import Field

    from engine.config import ConfigModel, settings_schema

    class C(ConfigModel):
        window: Optional[int] = Field(None, ge=1, le=50)
        """A window, or none."""

    (entry,) = settings_schema(C)
    assert entry["type"] == "integer" and entry["min"] == 1 and entry["max"] == 50 and entry["nullable"] is True


@pytest.mark.parametrize("value", ["NaN", float("nan"), float("inf"), "-Infinity"])
def test_non_finite_numbers_are_refused_as_such(value: object) -> None:
    """A NaN or infinite setting is refused for what it is, not with a misleading bound ("≤ 10")."""
    from pydantic import ValidationError

    from engine.spec import OptimConfig

    with pytest.raises(ValidationError) as err:
        OptimConfig(lr=value)
    assert err.value.errors()[0]["type"] == "finite_number"
    assert err.value.errors()[0]["loc"] == ("lr",)
