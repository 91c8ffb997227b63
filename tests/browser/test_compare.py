"""The compare page: three rules overlaid on shared axes with a table that names a winner, and a sweep whose points
are drawn as they finish. Every assertion reads what a chart has drawn (Plotly's ``el.data``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from drawn import finite, plot, wait_drawn

pytestmark = pytest.mark.browser

SMALL = "set=arch.hidden=8;batch=8;task.delay=4;alignment_every=2"


def traces(page: Page, plot_id: str) -> list[dict]:
    return page.evaluate("""id => document.getElementById(id).data.map(t => ({
        name: t.name, colour: t.line.color, xaxis: t.xaxis || 'x', yaxis: t.yaxis || 'y'}))""", plot_id)


def test_three_rules_draw_three_overlaid_loss_lines_and_the_table_names_a_winner(
        page: Page, guard, shots_dir: Path) -> None:  # noqa: ANN001
    page.goto(f"/compare?task=dnms&rules=bptt,eprop,readout&steps=40&{SMALL}", timeout=120_000)  # a loaded CI box
    page.wait_for_function("() => window.__compare && window.__compare.ready", timeout=30_000)
    page.click("#cmp-create")
    page.wait_for_url("**/compare/*", timeout=120_000)
    page.wait_for_function("() => window.__compare.ready && window.__compare.status === 'done'", timeout=180_000)
    for k in range(3):
        wait_drawn(page, "cmp-loss", k, 40)
    loss = plot(page, "cmp-loss")
    assert [t["name"] for t in loss["data"]] == ["bptt", "eprop", "readout"]
    assert all(len(finite(t["y"])) == 40 and t["x"][-1] == 40 for t in loss["data"])
    drawn = traces(page, "cmp-loss")
    assert {(t["xaxis"], t["yaxis"]) for t in drawn} == {("x", "y")}  # one shared axis
    assert drawn[0]["colour"] == "#000000" and len({t["colour"] for t in drawn}) == 3  # BPTT black, one colour per rule
    acc = plot(page, "cmp-acc")
    assert len(acc["data"]) == 3 and any(s.get("y0") == 50 for s in acc["shapes"])  # DNMS chance line
    align = plot(page, "cmp-align")
    assert finite(align["data"][0]["y"]) and all(abs(v - 1) < 1e-3 for v in finite(align["data"][0]["y"]))
    assert finite(align["data"][2]["y"]) == []  # readout: no credit to the network
    # the live server trains two runs at once: this three-member comparison trains in turn, and says so
    expect(page.locator("#cmp-status")).to_contain_text("in turn")
    winner = page.locator("#cmp-winner")
    expect(winner).to_contain_text("Winner: ")
    name = page.evaluate("() => window.__compare.winner")
    assert name in {"bptt", "eprop", "readout"}
    expect(page.locator("#cmp-table tr.winner th")).to_contain_text(name)
    assert page.locator("#cmp-table tbody tr").count() == 3
    page.wait_for_function("() => document.querySelectorAll('#cmp-multiples canvas').length >= 6", timeout=30_000)
    page.screenshot(path=str(shots_dir / "compare.png"), full_page=True)


def test_a_sweep_draws_its_points_as_they_finish(page: Page, guard, shots_dir: Path) -> None:  # noqa: ANN001
    page.goto("/compare?task=dnms&rules=bptt,readout&steps=20&setting=task.delay&values=2,4,6&seeds=0"
              "&set=arch.hidden=8;batch=4", timeout=120_000)
    page.wait_for_function("() => window.__compare && window.__compare.ready", timeout=30_000)
    page.click("#sweep-create")
    page.wait_for_url("**/sweep/*", timeout=120_000)
    page.wait_for_function("() => window.__compare.ended", timeout=240_000)
    state = page.evaluate("() => window.__compare")
    assert state["drawn"] == [1, 2, 3, 4, 5, 6]  # one redraw per point
    at = state["drawnAt"]  # ms on the page's clock: each point drawn when it arrived, not all at the end
    assert all(a < b for a, b in zip(at, at[1:])) and at[-1] - at[0] >= 100 and at[0] < state["endedAt"]
    sweep = plot(page, "sweep-plot")
    assert [t["name"] for t in sweep["data"]] == ["bptt", "readout"]
    assert all(t["x"] == [2, 4, 6] and len(finite(t["y"])) == 3 for t in sweep["data"])
    assert all(0 <= y <= 100 for t in sweep["data"] for y in t["y"])
    expect(page.locator("#cmp-status")).to_contain_text("6 of 6 points")
    page.screenshot(path=str(shots_dir / "sweep.png"), full_page=True)
