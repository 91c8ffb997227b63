"""The "synapse" control (docs/protocol.md): the page picks a synapse of a trace rule's run, and the next snapshot
shows it first; bad values are a 422 naming the field; a run that is not loaded refuses it with the reason."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from apputil import TINY, control, ready_run, watch

pytestmark = pytest.mark.timeout(120)

EPROP = {**TINY, "rule": "eprop", "steps": 100_000}


def test_a_picked_synapse_comes_first_in_the_next_snapshot(client: TestClient) -> None:
    run_id = ready_run(client, **EPROP)["id"]
    with watch(client, run_id) as reader:
        header, arrays = reader.until_snapshot()
        assert header["meta"]["synapses"]["weight"] == "W_rec"
        assert control(client, run_id, "synapse", [4, 1]).status_code == 200
        while not (int(arrays["synapses.rows"][0]), int(arrays["synapses.cols"][0])) == (4, 1):
            header, arrays = reader.until_snapshot()
        assert arrays["synapses.credit"].shape == arrays["signals.eligibility_trace"].shape
        # outside the 6 × 6 matrix: accepted, nothing changes
        assert control(client, run_id, "synapse", [6, 0]).status_code == 200


@pytest.mark.parametrize("value", [[1], [1, 2, 3], [-1, 0], "1,2", [1.5, 2]])
def test_a_malformed_synapse_is_a_422_naming_the_field(client: TestClient, value: object) -> None:
    run_id = ready_run(client, **EPROP)["id"]
    r = control(client, run_id, "synapse", value)
    assert r.status_code == 422, r.text
    assert any("value" in d["loc"] for d in r.json()["detail"]), r.json()


def test_a_finished_run_refuses_a_synapse_with_the_reason(client: TestClient) -> None:
    run_id = ready_run(client, **EPROP)["id"]
    assert control(client, run_id, "stop").status_code == 200
    r = control(client, run_id, "synapse", [0, 1])
    assert r.status_code == 409 and "paused or running" in r.text
