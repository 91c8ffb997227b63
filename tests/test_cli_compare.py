"""`creditlab compare` and `creditlab sweep`: the JSON they write, the table and its winner, clear errors."""

import json

import pytest
from typer.testing import CliRunner

from app.cli import cli

runner = CliRunner()
TINY = ["--steps", "3", "--batch", "4", "--set", "arch.hidden=8", "--set", "alignment_every=1"]


def test_compare_writes_members_and_a_table_that_names_a_winner(tmp_path):
    out = tmp_path / "cmp.json"
    res = runner.invoke(cli, ["compare", "--task", "dnms", "--rules", "bptt,eprop,readout", "--set", "task.delay=4",
                              *TINY, "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "winner: " in res.output and "bptt" in res.output and "readout" in res.output
    data = json.loads(out.read_text())
    assert [m["label"] for m in data["members"]] == ["bptt", "eprop", "readout"]
    assert all(m["config"]["task_config"]["delay"] == 4 and len(m["history"]) == 3 for m in data["members"])
    assert len({m["fingerprints"]["weights"] for m in data["members"]}) == 1 and data["shared_trials"]
    assert data["winner"]["label"] in {"bptt", "eprop", "readout"}
    assert {"updates_to_target", "seconds_to_target", "final_accuracy", "state_bytes", "ms_per_update"} <= set(
        data["table"][0])
    # recurrent alignment is measured for the overlay: BPTT's own is 1, readout assigns the network no credit
    assert data["members"][0]["history"][0]["alignment"]["recurrent"] == pytest.approx(1.0, abs=1e-4)
    assert data["members"][2]["history"][0]["alignment"]["recurrent"] is None


def test_sweep_prints_points_as_they_finish_and_writes_lines(tmp_path):
    out = tmp_path / "sweep.json"
    res = runner.invoke(cli, ["sweep", "--task", "dnms", "--setting", "task.delay", "--values", "2,4",
                              "--rules", "bptt,readout", "--seeds", "0,1", "--steps", "2", "--batch", "4",
                              "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert res.output.count("task.delay=") >= 4 + 2  # four points as they finish, then the header
    data = json.loads(out.read_text())
    assert len(data["points"]) == 4 and data["complete"]
    assert set(data["lines"]) == {"bptt", "readout"} and all(len(v) == 2 for v in data["lines"].values())


@pytest.mark.parametrize("args, needle", [
    (["compare", "--rules", "bptt,nope"], "valid choices are: bptt"),
    (["compare", "--task", "nope"], "valid choices are: add"),
    (["compare", "--rules", "bptt"], "2 to 6 members"),
    (["compare", "--set", "task.bogus=1"], "valid settings are: classes"),
    (["compare", "--set", "nope.x=1"], "unknown section"),
    (["sweep", "--setting", "task.delay", "--values", "5", "--rules", "eprop,nah"], "valid choices are: bptt"),
    (["sweep", "--setting", "task.nope", "--values", "5"], "valid settings are: classes"),
    (["sweep", "--setting", "bogus", "--values", "5"], "valid run settings are"),
    (["sweep", "--setting", "task.delay", "--values", "5", "--seeds", "x"], "--seeds"),
])
def test_bad_input_exits_2_with_the_valid_choices(args, needle):
    res = runner.invoke(cli, args)
    assert res.exit_code == 2, res.output
    assert needle in res.output and "Traceback" not in res.output
