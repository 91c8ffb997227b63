"""Typed settings for tasks, architectures and rules.

Every configurable piece of the engine declares a ``Config`` subclass of :class:`ConfigModel`. Each field carries a
docstring right below it; pydantic turns those docstrings into the field's ``description``, which the catalog, the
CLI and the web forms show as help text. Bounds are declared with ``Field(ge=..., le=...)`` so that one schema serves
validation, documentation and the generated forms.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError


class ConfigModel(BaseModel):
    """Base for every settings model: unknown keys are refused, field docstrings become help text."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, frozen=True, allow_inf_nan=False)


class SettingError(ValueError):
    """A setting was unknown, out of bounds or of the wrong type. ``field`` is a dotted path such as
    ``task_config.delay``; the message says what is allowed."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def describe_validation_error(prefix: str, err: ValidationError, model: type[BaseModel]) -> SettingError:
    """Turn pydantic's first error into a :class:`SettingError` that names the setting and its bounds."""
    first = err.errors()[0]
    loc = [str(p) for p in first["loc"]]
    field = ".".join([prefix, *loc] if prefix else loc) or prefix
    msg = first["msg"]
    owner, info = _locate(model, loc)
    if first["type"] == "extra_forbidden" and owner is not None:
        msg = f"unknown setting; valid settings are: {', '.join(sorted(owner.model_fields))}"
    elif info is not None:
        bounds = _bounds_text(info.metadata)
        if bounds:
            msg = f"{msg} (allowed: {bounds})"
    return SettingError(field, msg)


def _locate(model: type[BaseModel], loc: list[str]) -> tuple[type[BaseModel] | None, Any]:
    """Follow ``loc`` through nested models; return the model owning the last name and that field's info."""
    owner: Any = model
    info = None
    for i, name in enumerate(loc):
        if not (isinstance(owner, type) and issubclass(owner, BaseModel)):
            return None, None
        if name not in owner.model_fields:
            return owner, None
        info = owner.model_fields[name]
        if i < len(loc) - 1:
            owner = info.annotation
    return owner, info


def _bounds_text(metadata: list[Any]) -> str:
    parts = []
    for m in metadata:
        for attr, sym in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
            v = getattr(m, attr, None)
            if v is not None:
                parts.append(f"{sym} {v}")
    return " and ".join(parts)


def build_config(model: type[ConfigModel], values: dict[str, Any] | None, prefix: str) -> ConfigModel:
    """Validate ``values`` against ``model``; raise :class:`SettingError` naming the bad field."""
    try:
        return model.model_validate(values or {})
    except ValidationError as err:
        raise describe_validation_error(prefix, err, model) from None


def settings_schema(model: type[ConfigModel]) -> list[dict[str, Any]]:
    """One entry per field: name, type, default, bounds, choices and help text (for the catalog and forms)."""
    schema = model.model_json_schema()
    props = schema.get("properties", {})
    out = []
    for name, info in model.model_fields.items():
        p = _resolve(props.get(name, {}), schema)
        entry: dict[str, Any] = {
            "name": name,
            "type": p.get("type", "string"),
            "default": info.default,
            "help": info.description or "",
        }
        for key, out_key in (("minimum", "min"), ("maximum", "max"), ("exclusiveMinimum", "gt"),
                             ("exclusiveMaximum", "lt"), ("enum", "choices"), ("nullable", "nullable")):
            if key in p:
                entry[out_key] = p[key]
        out.append(entry)
    return out


def _resolve(p: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in p:
        ref = p["$ref"].split("/")[-1]
        return {**schema.get("$defs", {}).get(ref, {}), **{k: v for k, v in p.items() if k != "$ref"}}
    if "allOf" in p and len(p["allOf"]) == 1:
        return {**_resolve(p["allOf"][0], schema), **{k: v for k, v in p.items() if k != "allOf"}}
    if "const" in p:
        return {**p, "enum": [p["const"]]}
    if "anyOf" in p:
        # Optional[X] = Field(None, ge=...) is anyOf [X with its bounds, null]: the setting is an X that may be
        # left empty, so the form gets X's type and bounds (and ``nullable``)
        options = [_resolve(o, schema) for o in p["anyOf"]]
        real = [o for o in options if o.get("type") != "null"]
        if len(real) == 1:
            rest = {k: v for k, v in p.items() if k != "anyOf"}
            return {**real[0], **rest, "nullable": len(real) < len(options)}
    return p
