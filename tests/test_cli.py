"""The `creditlab` command: training output, JSON file, catalog, and clear errors without tracebacks."""

import json

import pytest
from typer.testing import CliRunner

from app.cli import cli, parse_sets

runner = CliRunner()


def test_parse_sets_maps_sections():
    assert parse_sets(["task.delay=40", "arch.hidden=64", "rule.feedback=random", "optim.lr=0.01", "batch=64"]) == {
        "task_config": {"delay": 40}, "arch_config": {"hidden": 64}, "rule_config": {"feedback": "random"},
        "optim": {"lr": 0.01}, "batch": 64,
    }


def test_train_writes_the_run_file(tmp_path):
    out = tmp_path / "run.json"
    res = runner.invoke(cli, ["train", "--task", "add", "--rule", "bptt", "--steps", "4", "--alignment-every", "2",
                              "--set", "batch=4", "--set", "optim.lr=0.02", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "done after 4 updates" in res.output
    data = json.loads(out.read_text())
    assert data["config"]["task"] == "add" and data["config"]["batch"] == 4
    assert data["config"]["optim"]["lr"] == 0.02
    assert data["config"]["task_config"]["t1"] == 6  # defaults resolved
    assert data["config"]["arch_config"]["alpha"] == 0.5  # Add's own network default (Task.network)
    assert [h["step"] for h in data["history"]] == [1, 2, 3, 4]
    assert set(data["history"][0]) >= {"step", "loss", "accuracy", "alignment", "ms"}
    assert data["history"][1]["alignment"]["all"] == pytest.approx(1.0, abs=1e-5)
    assert data["final"]["status"] == "done"


@pytest.mark.parametrize("args, needle", [
    (["--task", "nope"], "valid choices are:"),
    (["--rule", "nope"], "bptt"),
    (["--task", "add", "--set", "task.t1=0"], "task_config.t1"),
    (["--task", "add", "--set", "arch.hidden=1"], ">= 2"),
    (["--task", "add", "--set", "task.wat=1"], "valid settings are"),
    (["--task", "add", "--set", "optim.name=rmsprop"], "optim.name"),
])
def test_bad_input_is_one_clear_line(args, needle):
    res = runner.invoke(cli, ["train", "--steps", "1", *args])
    assert res.exit_code == 2
    assert needle in res.output
    assert "Traceback" not in res.output


def test_diverged_run_exits_nonzero_and_keeps_history(tmp_path):
    out = tmp_path / "d.json"
    res = runner.invoke(cli, ["train", "--task", "add", "--steps", "50", "--set", "arch.nonlinearity=relu",
                              "--set", "arch.gain=1.5", "--set", "arch.alpha=1", "--set", "optim.name=sgd",
                              "--set", "optim.lr=5", "--set", "optim.clip=0", "--out", str(out)])
    assert res.exit_code == 1
    data = json.loads(out.read_text())
    assert data["final"]["status"] == "diverged"
    assert data["history"][-1]["loss"] is None  # NaN is written as null
    assert len(data["history"]) == data["final"]["steps"] < 50


def test_catalog_json_matches_engine():
    from engine.catalog import catalog

    res = runner.invoke(cli, ["catalog", "--json"])
    assert res.exit_code == 0
    data = json.loads(res.output)
    assert [t["name"] for t in data["tasks"]] == [t["name"] for t in catalog()["tasks"]]
    assert "rnn" in data["compatibility"] and "bptt" in data["compatibility"]["rnn"]
    setting = data["archs"][0]["settings"][0]
    assert {"name", "type", "default", "help"} <= set(setting)


def test_catalog_text_lists_everything():
    from engine.catalog import catalog

    res = runner.invoke(cli, ["catalog"])
    assert res.exit_code == 0
    for kind in ("tasks", "archs", "rules"):
        for e in catalog()[kind]:
            assert e["name"] in res.output
