"""The CLI's progress and summary lines: late means ("mean of last N updates"), alignment led by the recurrent
cosine, "—" with a sentence for readout-only, and one binary byte unit."""

import json

from typer.testing import CliRunner

from app.cli import _bytes, cli

runner = CliRunner()
ARGS = ["train", "--task", "add", "--steps", "20", "--alignment-every", "5", "--set", "batch=4"]


def test_summary_leads_with_late_means_and_recurrent_alignment(tmp_path):
    out = tmp_path / "run.json"
    res = runner.invoke(cli, [*ARGS, "--rule", "eprop", "--out", str(out)])
    assert res.exit_code == 0, res.output
    final = json.loads(out.read_text())["final"]
    assert f"loss {final['loss']:.3f}" in res.output and "mean of last 10 updates" in res.output
    assert f"last batch {final['last_loss']:.3f}" in res.output
    rec, al = final["alignment"]["recurrent"], final["alignment"]["all"]
    assert f"recurrent {rec:.2f}, all {al:.2f}" in res.output
    assert "align recurrent" in res.output  # the progress line (stderr, mixed in by the runner)
    assert "KB" not in res.output and "KiB" in res.output
    assert [_bytes(x) for x in (512, 2048, 180224, 3 * 2**20)] == ["512 B", "2.0 KiB", "176.0 KiB", "3.0 MiB"]


def test_readout_shows_a_dash_and_says_it_assigns_no_credit():
    res = runner.invoke(cli, [*ARGS, "--rule", "readout"])
    assert res.exit_code == 0, res.output
    assert "recurrent —" in res.output and "assigns no credit to the network" in res.output



def test_a_slow_configuration_is_announced_before_training():
    res = runner.invoke(cli, ["train", "--task", "add", "--rule", "rtrl", "--steps", "1", "--set", "arch.hidden=128",
                              "--set", "batch=48", "--set", "task.steps=3", "--set", "task.t1=1", "--set", "task.t2=2"])
    assert res.exit_code == 0, res.output
    assert "slow" in res.output and "per update (estimated)" in res.output
