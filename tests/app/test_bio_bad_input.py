"""Bad input for the biological networks and rules (issue 8): a 422 naming the field through the API, one clear line
and exit 2 through the CLI — for Dale's law with an excitatory fraction that leaves a cell type empty, a rule whose
state would not fit, and a rule paired with an architecture that lacks what it needs (the message names the need and
the architectures that have it)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.cli import cli
from apputil import AUTH, TINY

runner = CliRunner()

#: (overrides of TINY, the loc of the 422, words its message must hold, the CLI arguments of the same mistake)
CASES = {
    "dale_fraction": ({"arch": "lif", "arch_config": {"hidden": 10, "dale": True, "excitatory_fraction": 0.97}},
                      ["body", "arch_config", "excitatory_fraction"], ["0 inhibitory", "between 0.1 and 0.9"],
                      ["--arch", "lif", "--set", "arch.hidden=10", "--set", "arch.dale=true",
                       "--set", "arch.excitatory_fraction=0.97"]),
    "snap1_too_large": ({"rule": "snap1", "arch_config": {"hidden": 64}, "batch": 64,
                         "rule_config": {"max_memory_mb": 1}},
                        ["body", "rule"], ["SnAp-1", "limit of 1 MiB", "lower the batch to"],
                        ["--rule", "snap1", "--batch", "64", "--set", "arch.hidden=64",
                         "--set", "rule.max_memory_mb=1"]),
    "spiking_rule_on_rates": ({"rule": "eprop_lif"}, ["body", "rule"], ["needs spiking", "architectures that have it: lif"],
                              ["--rule", "eprop_lif"]),
    "mdgl_on_gru": ({"rule": "mdgl", "arch": "gru"}, ["body", "rule"], ["needs spiking", "architectures that have it: lif"],
                    ["--rule", "mdgl", "--arch", "gru"]),
    "snap1_on_lif": ({"rule": "snap1", "arch": "lif"}, ["body", "rule"], ["needs unit_locals", "architectures that have it: gru, rnn"],
                     ["--rule", "snap1", "--arch", "lif"]),
    "node_perturbation_on_gru": ({"rule": "node_perturbation", "arch": "gru"}, ["body", "rule"],
                                 ["needs unit_noise", "architectures that have it: rnn"], ["--rule", "node_perturbation", "--arch", "gru"]),
}


@pytest.mark.parametrize("case", CASES)
def test_api_answers_422_naming_the_field(client: TestClient, case: str) -> None:
    overrides, loc, words, _ = CASES[case]
    r = client.post("/api/runs", json={**TINY, **overrides}, headers=AUTH)
    assert r.status_code == 422, r.text
    (detail,) = r.json()["detail"]
    assert detail["loc"] == loc
    assert all(w in detail["msg"] for w in words), detail["msg"]


@pytest.mark.parametrize("case", CASES)
def test_cli_says_it_in_one_line_and_exits_2(case: str) -> None:
    _, _, words, args = CASES[case]
    res = runner.invoke(cli, ["train", "--task", "add", "--steps", "1", *args])
    assert res.exit_code == 2, res.output
    assert all(w in res.output for w in words), res.output
    assert "Traceback" not in res.output
