"""Pin (issue 7): a finished run's curves stay, as grey dashed ghosts, under the next run's, so two runs can be
compared on one screen without a comparison. Assertions read Plotly's drawn data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from drawn import finite

pytestmark = pytest.mark.browser

SETUP = "#task=dnms&arch=rnn&rule=bptt&arch_config.hidden=12&batch=4&steps=40"


def traces(page: Page, plot_id: str) -> list[dict]:
    return page.evaluate(f"() => document.getElementById('{plot_id}').data.map(t => "
                         "({name: t.name, x: Array.from(t.x || []), y: Array.from(t.y || [])}))")


def play_to_the_end(page: Page, previous: str | None = None) -> str:
    """Play a new run to its end and until its whole loss curve is drawn; returns its id."""
    page.click("#btn-play")
    page.wait_for_function(f"() => window.__credit.status === 'done' && window.__credit.runId !== {json.dumps(previous)}"
                           " && document.getElementById('plot-loss').data.some(t => !t.name.startsWith('pinned')"
                           " && t.x && t.x.length && t.x[t.x.length - 1] === 40)", timeout=90_000)
    return page.evaluate("() => window.__credit.runId")


def test_a_pinned_run_stays_under_the_next_one(page: Page, guard, shots_dir: Path) -> None:  # noqa: ANN001
    page.goto("/" + SETUP)
    page.wait_for_function("() => window.__credit && window.__credit.ready", timeout=30_000)
    pin = page.locator("#btn-pin")
    expect(pin).to_be_disabled()  # nothing finished yet
    run = play_to_the_end(page)
    expect(pin).to_be_enabled()
    first = [t for t in traces(page, "plot-loss") if not t["name"].startswith("pinned")]
    pin.click()
    expect(pin).to_have_text("Unpin")
    # A new run with another rule: its own curve grows while the pinned one stays as it was.
    page.check("#rule-readout")
    play_to_the_end(page, run)
    loss = traces(page, "plot-loss")
    ghosts = [t for t in loss if t["name"].startswith("pinned: bptt on dnms")]
    assert len(ghosts) == 1, [t["name"] for t in loss]
    ghost = ghosts[0]
    trend = first[-1]  # the pinned curve is the first run's trend line, as drawn
    assert ghost["x"] == trend["x"] and ghost["x"][-1] == 40
    assert finite(ghost["y"]) == finite(trend["y"])
    own = [t for t in loss if not t["name"].startswith("pinned")]
    assert own and max(own[-1]["x"]) == 40 and finite(own[-1]["y"]) != finite(ghost["y"])
    acc = traces(page, "plot-acc")
    assert any(t["name"].startswith("pinned: bptt") for t in acc)
    page.locator("#chart-loss").screenshot(path=str(shots_dir / "pinned.png"))
    pin.click()  # unpin: the ghost goes
    page.wait_for_function("() => !document.getElementById('plot-loss').data.some(t => t.name.startsWith('pinned'))",
                           timeout=10_000)
