"""``creditlab lesson check``: every lesson's claim holds on every seed at the lessons' own sizes, and each claim
that credits learning fails when readout-only (a fixed network, a trained readout) replaces the rule.

The slow tests are what CI runs: all seven lessons on seeds 0–2 with two worker processes (192 s of CPU, about
100 s on two free cores; docs/lessons.md "Measured"), then the readout-only substitution on seed 0 (about 20 s of
CPU). The fast tests check the command's exits and lines."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from app.cli import cli
from engine.lesson_check import check_lessons, credits_learning
from engine.lessons import load_lessons

runner = CliRunner()


def test_lesson_list_names_every_lesson_in_order():
    result = runner.invoke(cli, ["lesson", "list"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) >= 7 and "temporal-credit" in lines[0] and "task-design" in lines[-1]


def test_an_unknown_lesson_exits_2_listing_the_valid_names():
    result = runner.invoke(cli, ["lesson", "check", "nope"])
    assert result.exit_code == 2
    assert "unknown lesson 'nope'" in result.output and "fixed-circuit" in result.output


def test_bad_seeds_exit_2():
    assert runner.invoke(cli, ["lesson", "check", "fixed-circuit", "--seeds", "a,b"]).exit_code == 2


def test_every_lesson_has_a_claim_that_credits_learning_and_one_a_trivial_rule_fails():
    lessons, _ = load_lessons()
    for lesson in lessons.values():
        assert any(credits_learning(lesson, c) for c in lesson.claims), lesson.name
        readout_bounded = [c for c in lesson.claims if "readout" in lesson.runs()[c.run].get("rule", "")
                           and c.op in ("<=", "<") and c.metric == "accuracy"]
        assert readout_bounded, lesson.name


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_lesson_check_passes_every_claim_on_every_seed():
    result = runner.invoke(cli, ["lesson", "check", "--seeds", "0,1,2", "--jobs", "2"])
    assert result.exit_code == 0, result.output
    assert result.output.count("PASS on seeds 0,1,2") == len(load_lessons()[0])
    assert "every claim holds on every seed" in result.output


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_every_claim_that_credits_learning_fails_with_readout_only():
    lessons, _ = load_lessons()
    report = check_lessons(list(lessons.values()), [0], jobs=2, trivial=True)
    held = [(name, r["claims"][i]) for name, r in report.items() for i, res in enumerate(r["seeds"][0]["claims"])
            if not res["pass"]]
    assert not held, held
