"""Lessons: guided steps through the paper's argument, each a Markdown file in ``lessons/`` whose claim is a test.

A lesson file is TOML front matter between two ``+++`` lines, then Markdown (the lesson's text)::

    +++
    title = "Is a fixed circuit enough?"
    order = 5
    question = "Asked before Play."
    look_at = "What to watch while it runs."
    controls = ["task.delay", "rule"]

    [[presets]]                     # a run spec, a comparison spec or a sweep spec (engine.compare), verbatim
    name = "hard"
    kind = "comparison"
    [presets.spec]
    base = { task = "dnms", steps = 300 }
    members = [{ rule = "eprop" }, { rule = "readout" }]

    [[claims]]
    say = "e-prop solves it"
    run = "hard/eprop"
    metric = "accuracy"
    op = ">="
    value = 0.9
    +++

TOML, not YAML: it is in the standard library (``tomllib``), it is strict (a typo is an error with a line number,
not a silently different value: YAML reads ``no`` as false), and nested specs read the same as the JSON the API
takes. Each preset expands into named *runs* (:func:`runs_of`):

    run preset "p"                → "p"
    comparison "p", member m      → "p/<label>"   (label: ``labels[i]``, else the member's rule when the rules
                                                  are distinct, else i)
    sweep "p", rule r, value v    → "p/r@v"

A claim relates the *late* value (``engine.training.late_mean``: the mean over the last 10 % of updates) of one
run's metric to a number or to another run's metric, and must hold on **every** seed checked:

    absolute:    x_run,metric  op  value                                                                   (1)
    relative:    x_run,metric  op  times · x_than,than_metric + by      (than defaults to run, than_metric
                                                                         to metric; times 1, by 0)         (2)

with op one of ``>=``, ``<=``, ``>``, ``<``. A missing value (e.g. the recurrent alignment of readout-only, which
trains no recurrent weight) fails the claim. :data:`METRICS` lists what a claim can name.

:func:`load_lessons` reads a folder and returns the lessons that are valid and, separately, one
:class:`LessonError` (file, field, message) per bad file: one bad file never hides the others.
``engine.lesson_check`` trains the runs the claims name, once per seed, and judges Eqs. (1)–(2).
"""

from __future__ import annotations

import math
import tomllib
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal

from engine.compare import ComparisonSpec, SweepSpec, apply_overrides, member_specs, set_path, sweep_points
from engine.config import SettingError
from engine.spec import RunSpec, parse_spec, resolve

OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, "<": lambda a, b: a < b}

#: What a claim can name, and what each is.
METRICS: dict[str, str] = {
    "accuracy": "late mean accuracy (share of trials right, or R² for regression tasks)",
    "loss": "late mean loss",
    "alignment": "late mean cosine of the rule's recurrent gradient with BPTT's (needs alignment_every > 0)",
    "alignment_all": "late mean cosine over every parameter, readout included",
    "feedback_alignment": "cos(B, W_outᵀ) of the rule's feedback matrix at the end of the run (feedback Eq. 5)",
    "feedback_alignment_start": "cos(B, W_outᵀ) before the first update",
    "state_bytes": "the rule's state for one batch at this trial length (the cost meter)",
    "per_step_bytes": "the part of the rule's state that grows with every time step of a trial",
    "fixed_bytes": "the part of the rule's state that does not grow with the trial length",
    "ms_per_update": "mean milliseconds per update (measured; noisy on a shared machine)",
    "trial_steps": "the trial length T",
}

KINDS = ("run", "comparison", "sweep")
#: Keys of the front matter, and whether each is required.
FIELDS = {"title": True, "order": True, "question": True, "look_at": True, "presets": True, "claims": True,
          "controls": False, "summary": False}

#: The folder of the lessons: ``<repo>/lessons`` in a checkout, ``app/lessons`` in an installed wheel.
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FOLDER = ROOT / "lessons" if (ROOT / "lessons").is_dir() else ROOT / "app" / "lessons"


class LessonError(ValueError):
    """A bad lesson file: which file, which field (dotted path into the front matter), what is wrong."""

    def __init__(self, file: str, field: str, message: str):
        super().__init__(f"{file}: {field}: {message}")
        self.file, self.field, self.message = file, field, message


@dataclass
class Claim:
    """Eq. (1) when ``value`` is set, else Eq. (2)."""

    say: str
    run: str
    metric: str
    op: str
    value: float | None = None
    than: str | None = None
    than_metric: str | None = None
    times: float = 1.0
    by: float = 0.0

    def refs(self) -> list[str]:
        return [self.run] if self.value is not None else list(dict.fromkeys([self.run, self.than or self.run]))

    def judge(self, metrics: dict[str, dict[str, Any]]) -> dict[str, Any]:
        """Eq. (1) or (2) on one seed's metrics (run name → metric name → value)."""
        left = metrics.get(self.run, {}).get(self.metric)
        if self.value is not None:
            right = self.value
        else:
            other = metrics.get(self.than or self.run, {}).get(self.than_metric or self.metric)
            right = None if other is None else self.times * other + self.by
        ok = _finite(left) and _finite(right) and OPS[self.op](left, right)
        return {"left": left, "right": right, "pass": bool(ok)}

    def __str__(self) -> str:
        if self.value is not None:
            return f"{self.run} {self.metric} {self.op} {self.value:g}"
        rhs = f"{self.than or self.run} {self.than_metric or self.metric}"
        if self.times != 1:
            rhs = f"{self.times:g} × {rhs}"
        if self.by:
            rhs += f" {'+' if self.by > 0 else '−'} {abs(self.by):g}"
        return f"{self.run} {self.metric} {self.op} {rhs}"


@dataclass
class Preset:
    name: str
    kind: Literal["run", "comparison", "sweep"]
    spec: dict[str, Any]
    title: str = ""
    labels: list[str] = field(default_factory=list)


@dataclass
class Lesson:
    name: str
    file: str
    title: str
    order: int
    question: str
    look_at: str
    presets: list[Preset]
    claims: list[Claim]
    controls: list[str] = field(default_factory=list)
    summary: str = ""
    body: str = ""

    def runs(self) -> dict[str, dict[str, Any]]:
        """Every run of every preset: name → run spec data (the preset's own values, nothing filled in)."""
        out: dict[str, dict[str, Any]] = {}
        for p in self.presets:
            out.update(runs_of(p))
        return out

    def to_dict(self) -> dict[str, Any]:
        """What the API serves: the lesson, each preset with its runs as lab links (``/#task=…``)."""
        return {
            "name": self.name, "title": self.title, "order": self.order, "summary": self.summary,
            "question": self.question, "look_at": self.look_at, "controls": self.controls, "body": self.body,
            "presets": [{"name": p.name, "kind": p.kind, "title": p.title or p.name, "spec": p.spec,
                         "runs": [{"name": n, "label": n.partition("/")[2] or n, "spec": d, "hash": lab_hash(d)}
                                  for n, d in runs_of(p).items()]} for p in self.presets],
            "claims": [{"say": c.say, "check": str(c)} for c in self.claims],
        }


def runs_of(p: Preset) -> dict[str, dict[str, Any]]:
    """The named runs of one preset (see the module docstring) as plain spec data."""
    if p.kind == "run":
        return {p.name: dict(p.spec)}
    if p.kind == "comparison":
        cmp = ComparisonSpec.model_validate(p.spec)
        rules = [m.get("rule", cmp.base.get("rule", "bptt")) for m in cmp.members]
        labels = p.labels or (rules if len(set(rules)) == len(rules) else [str(i) for i in range(len(rules))])
        return {f"{p.name}/{lab}": apply_overrides(cmp.base, m) for lab, m in zip(labels, cmp.members)}
    sw = SweepSpec.model_validate(p.spec)
    return {f"{p.name}/{rule}@{value}": set_path(set_path(set_path(sw.base, "rule", rule), "seed", sw.seeds[0]),
                                                  sw.setting, value)
            for value in sw.values for rule in sw.rules}


def lab_hash(data: dict[str, Any]) -> str:
    """The lab's URL hash for run spec data, in static/js/state.js's format (``#task=dnms&rule=eprop&
    task_config.delay=40&seed=0``): groups as ``group.name``, run settings as plain keys, values as text."""
    def enc(v: Any) -> str:
        text = ("true" if v else "false") if isinstance(v, bool) else str(v)
        return urllib.parse.quote(text, safe="-_.!~*'()").replace("%2C", ",")

    parts = [f"{k}={enc(data[k])}" for k in ("task", "arch", "rule") if data.get(k)]
    for group in ("task_config", "arch_config", "rule_config", "optim"):
        parts += [f"{group}.{enc(k)}={enc(v)}" for k, v in (data.get(group) or {}).items()]
    parts += [f"{k}={enc(data[k])}" for k in ("batch", "seed", "steps", "alignment_every") if k in data]
    return "#" + "&".join(parts)


def _finite(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


# ---------------------------------------------------------------------------------------------------- loading


def split_front_matter(text: str, file: str) -> tuple[dict[str, Any], str]:
    """(front matter as a dict, Markdown body). The file must start with a ``+++`` line and close it with one."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "+++":
        raise LessonError(file, "front matter", "the file must start with a line '+++' (TOML front matter)")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "+++")
    except StopIteration:
        raise LessonError(file, "front matter", "no closing '+++' line") from None
    try:
        meta = tomllib.loads("\n".join(lines[1:end]))
    except tomllib.TOMLDecodeError as err:
        raise LessonError(file, "front matter", f"not valid TOML: {err}") from None
    return meta, "\n".join(lines[end + 1:]).strip() + "\n"


def _want(file: str, where: str, value: Any, kind: type, what: str) -> Any:
    """``value`` if it is a ``kind`` (a TOML true/false is not a number), else :class:`LessonError`."""
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise LessonError(file, where, f"must be {what}, got {value!r}")
    return value


def parse_preset(file: str, i: int, data: Any) -> Preset:
    where = f"presets.{i}"
    _want(file, where, data, dict, "a table ([[presets]])")
    unknown = set(data) - {"name", "kind", "spec", "title", "labels"}
    if unknown:
        raise LessonError(file, f"{where}.{sorted(unknown)[0]}", "unknown key; valid keys are: name, kind, spec, "
                                                                  "title, labels")
    for key in ("name", "kind", "spec"):
        if key not in data:
            raise LessonError(file, f"{where}.{key}", "missing")
    name = _want(file, f"{where}.name", data["name"], str, "a name")
    if not name or "/" in name or "@" in name:
        raise LessonError(file, f"{where}.name", f"must be a non-empty name without '/' or '@', got {name!r}")
    kind = data["kind"]
    if kind not in KINDS:
        raise LessonError(file, f"{where}.kind", f"unknown kind {kind!r}; valid kinds are: {', '.join(KINDS)}")
    p = Preset(name, kind, _want(file, f"{where}.spec", data["spec"], dict, "a table of spec settings"),
               _want(file, f"{where}.title", data.get("title", ""), str, "text"),
               list(_want(file, f"{where}.labels", data.get("labels", []), list, "a list of names")))
    try:
        if kind == "run":
            resolve(parse_spec(p.spec))
        elif kind == "comparison":
            cmp = ComparisonSpec.model_validate(p.spec)
            [resolve(s) for s in member_specs(cmp)]
            if p.labels and len(p.labels) != len(cmp.members):
                raise LessonError(file, f"{where}.labels", f"{len(p.labels)} labels for {len(cmp.members)} members")
        else:
            [resolve(s) for *_, s in sweep_points(SweepSpec.model_validate(p.spec))]
    except SettingError as err:
        raise LessonError(file, f"{where}.spec.{err.field}", err.message) from None
    except LessonError:
        raise
    except ValueError as err:  # pydantic's ValidationError, UnknownName, Incompatible
        raise LessonError(file, f"{where}.spec", str(err).splitlines()[0] if str(err) else repr(err)) from None
    return p


def parse_claim(file: str, i: int, data: Any, runs: dict[str, Any]) -> Claim:
    where = f"claims.{i}"
    _want(file, where, data, dict, "a table ([[claims]])")
    known = {"say", "run", "metric", "op", "value", "than", "than_metric", "times", "by"}
    unknown = set(data) - known
    if unknown:
        raise LessonError(file, f"{where}.{sorted(unknown)[0]}", f"unknown key; valid keys are: {', '.join(known)}")
    for key in ("say", "run", "metric", "op"):
        if key not in data:
            raise LessonError(file, f"{where}.{key}", "missing")
    c = Claim(**data)
    _want(file, f"{where}.say", c.say, str, "text")
    if c.op not in OPS:
        raise LessonError(file, f"{where}.op", f"unknown op {c.op!r}; valid ops are: {', '.join(OPS)}")
    for key in ("metric", "than_metric"):
        m = getattr(c, key)
        if m is not None and m not in METRICS:
            raise LessonError(file, f"{where}.{key}", f"unknown metric {m!r}; valid metrics are: {', '.join(METRICS)}")
    for key in ("run", "than"):
        r = getattr(c, key)
        if r is not None and r not in runs:
            raise LessonError(file, f"{where}.{key}", f"no run named {r!r}; this lesson's runs are: {', '.join(runs)}")
    relative = c.than is not None or c.than_metric is not None or "times" in data or "by" in data
    if (c.value is None) == (not relative):
        raise LessonError(file, f"{where}.value", "give either value (Eq. 1) or than / than_metric (Eq. 2), not both")
    for key in ("value", "times", "by"):
        v = getattr(c, key)
        if v is not None and not _finite(v):
            raise LessonError(file, f"{where}.{key}", f"must be a number, got {v!r}")
    return c


def parse_lesson(path: Path) -> Lesson:
    """One lesson file, or :class:`LessonError` naming the file and the first bad field."""
    file = f"lessons/{path.name}"
    meta, body = split_front_matter(path.read_text(encoding="utf-8"), file)
    for key, required in FIELDS.items():
        if required and key not in meta:
            raise LessonError(file, key, "missing")
    unknown = set(meta) - set(FIELDS)
    if unknown:
        raise LessonError(file, sorted(unknown)[0], f"unknown field; valid fields are: {', '.join(FIELDS)}")
    for key in ("title", "question", "look_at", "summary"):
        _want(file, key, meta.get(key, ""), str, "text")
    _want(file, "order", meta["order"], int, "a whole number")
    controls = _want(file, "controls", meta.get("controls", []), list, "a list of settings (e.g. task.delay)")
    presets_data = _want(file, "presets", meta["presets"], list, "a list of tables ([[presets]])")
    if not presets_data:
        raise LessonError(file, "presets", "a lesson needs at least one preset")
    presets = [parse_preset(file, i, d) for i, d in enumerate(presets_data)]
    names = [p.name for p in presets]
    if len(set(names)) != len(names):
        raise LessonError(file, "presets", f"preset names must differ: {names}")
    runs: dict[str, Any] = {}
    for p in presets:
        runs.update(runs_of(p))
    claims_data = _want(file, "claims", meta["claims"], list, "a list of tables ([[claims]])")
    if not claims_data:
        raise LessonError(file, "claims", "a lesson needs at least one claim")
    claims = [parse_claim(file, i, d, runs) for i, d in enumerate(claims_data)]
    return Lesson(path.stem, file, meta["title"], meta["order"], meta["question"], meta["look_at"], presets, claims,
                  [str(c) for c in controls], meta.get("summary", ""), body)


def load_lessons(folder: Path | None = None) -> tuple[dict[str, Lesson], list[LessonError]]:
    """Every ``*.md`` of the folder: valid lessons by name (in lesson order) and the errors of the bad ones."""
    folder = folder or DEFAULT_FOLDER
    lessons, errors = [], []
    for path in sorted(folder.glob("*.md")):
        try:
            lessons.append(parse_lesson(path))
        except LessonError as err:
            errors.append(err)
        except (OSError, UnicodeDecodeError) as err:
            errors.append(LessonError(f"lessons/{path.name}", "file", str(err)))
    return {x.name: x for x in sorted(lessons, key=lambda x: (x.order, x.name))}, errors


__all__ = ["Claim", "DEFAULT_FOLDER", "Lesson", "LessonError", "METRICS", "Preset", "lab_hash", "load_lessons",
           "parse_lesson", "runs_of", "split_front_matter"]
