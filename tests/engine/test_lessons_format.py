"""Lesson files (``engine.lessons``): the shipped lessons load, a bad file is reported with its file name and field
while the others still load, claims judge Eqs. (1)–(2), and presets become lab links in the page's hash format."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engine.lessons import DEFAULT_FOLDER, Claim, LessonError, lab_hash, load_lessons, parse_lesson

GOOD = """+++
title = "T"
order = 1
question = "Q?"
look_at = "L"
controls = ["rule"]

[[presets]]
name = "cmp"
kind = "comparison"
[presets.spec]
base = { task = "dnms", steps = 5 }
members = [{ rule = "eprop" }, { rule = "readout" }]

[[presets]]
name = "sw"
kind = "sweep"
[presets.spec]
base = { task = "dnms", steps = 2 }
setting = "task.delay"
values = [2, 40]
rules = ["bptt"]

[[presets]]
name = "one"
kind = "run"
spec = { task = "add", rule = "readout", optim = { lr = 0.02 } }

[[claims]]
say = "e-prop learns"
run = "cmp/eprop"
metric = "accuracy"
op = ">="
value = 0.9

[[claims]]
say = "memory grows"
run = "sw/bptt@40"
metric = "state_bytes"
op = ">="
than = "sw/bptt@2"
times = 3
+++

Body text.
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def test_the_shipped_lessons_all_load_in_order():
    lessons, errors = load_lessons()
    assert errors == []
    assert len(lessons) >= 7
    assert [x.order for x in lessons.values()] == sorted(x.order for x in lessons.values())
    for lesson in lessons.values():
        assert lesson.question.endswith("?"), lesson.name
        assert lesson.claims and lesson.presets and lesson.body.strip(), lesson.name
        # every claim that credits learning has a trivial rule it must beat in the same lesson
        assert any("readout" in r for r in lesson.runs()), lesson.name


def test_a_good_file_parses_into_named_runs(tmp_path):
    lesson = parse_lesson(write(tmp_path, "good.md", GOOD))
    assert lesson.name == "good" and lesson.body.strip() == "Body text."
    assert list(lesson.runs()) == ["cmp/eprop", "cmp/readout", "sw/bptt@2", "sw/bptt@40", "one"]
    assert lesson.runs()["sw/bptt@40"]["task_config"] == {"delay": 40}
    assert lesson.runs()["cmp/readout"] == {"task": "dnms", "steps": 5, "rule": "readout"}
    assert str(lesson.claims[1]) == "sw/bptt@40 state_bytes >= 3 × sw/bptt@2 state_bytes"


@pytest.mark.parametrize("old, new, field", [
    ('op = ">="\nvalue = 0.9', 'op = "=>"\nvalue = 0.9', "claims.0.op"),
    ('run = "cmp/eprop"', 'run = "cmp/rflo"', "claims.0.run"),
    ('metric = "accuracy"', 'metric = "acc"', "claims.0.metric"),
    ('members = [{ rule = "eprop" }', 'members = [{ rule = "eprob" }', "presets.0.spec"),
    ('base = { task = "dnms", steps = 5 }', 'base = { task = "dnms", steps = 5, task_config = { delay = -1 } }',
     "presets.0.spec.task_config.delay"),
    ('kind = "run"', 'kind = "walk"', "presets.2.kind"),
    ('order = 1', 'order = "first"', "order"),
    ('question = "Q?"\n', '', "question"),
    ('title = "T"', 'title = "T"\ncolour = "red"', "colour"),
    ('value = 0.9', 'value = 0.9\nthan = "cmp/readout"', "claims.0.value"),
    ('title = "T"', 'title = "T', "front matter"),
])
def test_a_bad_field_is_reported_with_file_and_field_and_the_others_still_load(tmp_path, old, new, field):
    assert old in GOOD
    write(tmp_path, "a-good.md", GOOD)
    write(tmp_path, "bad.md", GOOD.replace(old, new, 1))
    lessons, errors = load_lessons(tmp_path)
    assert list(lessons) == ["a-good"]
    assert len(errors) == 1
    err = errors[0]
    assert isinstance(err, LessonError) and err.file == "lessons/bad.md" and err.field == field, str(err)
    assert "lessons/bad.md" in str(err) and field in str(err)


def test_a_file_without_front_matter_is_reported(tmp_path):
    write(tmp_path, "plain.md", "# just markdown\n")
    shutil.copy(DEFAULT_FOLDER / "temporal-credit.md", tmp_path / "temporal-credit.md")
    lessons, errors = load_lessons(tmp_path)
    assert list(lessons) == ["temporal-credit"]
    assert errors[0].file == "lessons/plain.md" and errors[0].field == "front matter"


def test_claims_judge_absolute_and_relative_forms_and_a_missing_value_fails():
    metrics = {"a": {"accuracy": 0.95, "alignment": None}, "b": {"accuracy": 0.5}}
    assert Claim("", "a", "accuracy", ">=", value=0.9).judge(metrics)["pass"]
    assert not Claim("", "b", "accuracy", ">=", value=0.9).judge(metrics)["pass"]
    assert Claim("", "a", "accuracy", ">=", than="b", by=0.4).judge(metrics)["pass"]
    assert not Claim("", "a", "accuracy", ">=", than="b", times=2).judge(metrics)["pass"]
    assert not Claim("", "a", "alignment", ">=", value=0.0).judge(metrics)["pass"]  # readout: no recurrent credit
    assert not Claim("", "missing", "accuracy", "<=", value=1.0).judge(metrics)["pass"]


def test_lab_hash_matches_the_page_format():
    data = {"task": "dnms", "rule": "eprop", "task_config": {"delay": 40}, "rule_config": {"feedback": "random"},
            "optim": {"lr": 0.01}, "steps": 300, "seed": 0, "arch_config": {"hidden": 128}}
    assert lab_hash(data) == ("#task=dnms&rule=eprop&task_config.delay=40&arch_config.hidden=128"
                              "&rule_config.feedback=random&optim.lr=0.01&seed=0&steps=300")
    assert lab_hash({"task": "a b", "task_config": {"flag": True}}) == "#task=a%20b&task_config.flag=true"
