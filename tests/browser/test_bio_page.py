"""Issue 8, the page of biological networks: every weight matrix a network declares is drawn under its own name,
with the state variables it declares (a GRU's gates); rules with eligibility traces draw, for a shown synapse, its
trace, its unit's learning signal and their product; a stochastic estimator's alignment chart draws the spread of
its estimates, a deterministic rule's does not. Assertions read canvas pixels and Plotly's drawn data."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from drawn import finite, plot, wait_drawn

pytestmark = pytest.mark.browser

QUICK = "arch_config.hidden=12&batch=4&steps=100000"


def open_and_play(page: Page, hash_: str) -> None:
    page.goto("/" + hash_)
    page.wait_for_function("() => window.__credit && window.__credit.ready", timeout=30_000)
    page.click("#btn-play")


def canvas_colours(page: Page, selector: str) -> int:
    """How many distinct colours the canvas under ``selector`` has drawn (1: blank or uniform)."""
    return page.evaluate("""sel => { const c = document.querySelector(sel);
        if (!c || c.width < 2) return 0;
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; const seen = new Set();
        for (let i = 0; i < d.length; i += 4) seen.add(`${d[i]},${d[i+1]},${d[i+2]}`);
        return seen.size; }""", selector)


def test_a_gru_draws_each_declared_matrix_and_its_gates(page: Page, guard, shots_dir: Path) -> None:  # noqa: ANN001
    open_and_play(page, f"#task=dnms&arch=gru&rule=bptt&{QUICK}")
    page.wait_for_function("() => document.querySelectorAll('#chart-matrices .matrix-cell canvas').length === 7"
                           " && [...document.querySelectorAll('#chart-matrices .matrix-cell canvas')].every(c => c.width > 1)",
                           timeout=60_000)
    labels = page.locator("#chart-matrices .matrix-name").all_text_contents()
    assert [t.split(" ")[0] for t in labels] == ["W_hz", "W_hr", "W_hn", "W_xz", "W_xr", "W_xn", "W_out"], labels
    assert "(12 × 12)" in labels[0] and "(2 × 12)" in labels[-1], labels
    for name in ("W_hz", "W_xn", "W_out"):  # random initial weights: many colours, not a blank canvas
        assert canvas_colours(page, f"#chart-matrices .matrix-cell[data-name={name}] canvas") > 5, name
    # the big heatmap shows the first square matrix and says which
    expect(page.locator("#chart-wrec h2")).to_contain_text("W_hz")
    assert canvas_colours(page, "#plot-wrec canvas") > 5
    # the gates, one panel each, units × trial time
    page.wait_for_function("() => document.querySelectorAll('#chart-variables .variable-panel canvas').length === 2",
                           timeout=60_000)
    names = page.locator("#chart-variables .variable-panel").evaluate_all("els => els.map(e => e.dataset.name)")
    assert names == ["update_gate", "reset_gate"]
    expect(page.locator("#chart-variables .variable-panel").first).to_contain_text("update gate")
    for name in names:
        sel = f"#chart-variables .variable-panel[data-name={name}] canvas"
        assert page.evaluate("s => document.querySelector(s).height", sel) == 12
        assert canvas_colours(page, sel) > 5, name
    # the change since the start, once the run has made updates
    page.click("#chart-matrices .matrix-mode button:nth-child(2)")
    page.wait_for_function("() => window.__credit.snapshotStep >= 2", timeout=60_000)
    assert canvas_colours(page, "#chart-matrices .matrix-cell[data-name=W_hz] canvas") > 5
    page.locator("#chart-matrices").screenshot(path=str(shots_dir / "bio-gru-matrices.png"))
    page.locator("#chart-variables").screenshot(path=str(shots_dir / "bio-gru-gates.png"))
    page.click("#btn-play")


def synapse_curves(page: Page) -> list[dict]:
    wait_drawn(page, "plot-synapses", 2, 3)
    d = plot(page, "plot-synapses")["data"]
    assert [t["name"] for t in d] == ["eligibility trace", "learning signal", "trace × signal"]
    return d


@pytest.mark.parametrize("hash_", [f"#task=dnms&arch=rnn&rule=eprop&{QUICK}",
                                   "#task=evidence_accumulation&arch=lif&rule=eprop_lif&arch_config.hidden=24"
                                   "&arch_config.dale=true&batch=4&steps=100000"], ids=["eprop", "eprop_lif"])
def test_trace_rules_draw_a_synapse_trace_signal_and_product(page: Page, guard, shots_dir: Path, hash_: str) -> None:  # noqa: ANN001
    open_and_play(page, hash_)
    d = synapse_curves(page)
    e, L, c = (finite(t["y"]) for t in d)
    assert len(e) == len(L) == len(c) > 10
    assert max(abs(v) for v in e) > 0 and max(abs(v) for v in L) > 0
    assert max(abs(v) for v in c) > 0  # credit arrives where the trace meets the signal
    assert all(abs(ci - li * ei) <= 1e-5 * max(1.0, abs(li * ei)) for ei, li, ci in zip(e, L, c))
    buttons = page.locator("#chart-synapses .synapse-pick")
    assert buttons.count() == 4
    expect(buttons.first).to_have_attribute("aria-pressed", "true")
    first = e
    buttons.nth(1).click()
    expect(buttons.nth(1)).to_have_attribute("aria-pressed", "true")
    page.wait_for_function("(y0) => JSON.stringify(Array.from(document.getElementById('plot-synapses').data[0].y)) !== y0",
                           arg=str(first), timeout=10_000)
    assert max(abs(v) for v in finite(synapse_curves(page)[0]["y"])) > 0
    page.locator("#chart-synapses").screenshot(path=str(shots_dir / f"bio-synapses-{hash_.split('rule=')[1].split('&')[0]}.png"))
    page.click("#btn-play")


def test_a_stochastic_rule_draws_the_spread_of_its_alignment(page: Page, guard, shots_dir: Path) -> None:  # noqa: ANN001
    open_and_play(page, f"#task=dnms&arch=rnn&rule=uoro&{QUICK}&alignment_every=1")
    wait_drawn(page, "plot-align", 3, 4)
    d = plot(page, "plot-align")["data"]
    assert len(d) == 4, [t["name"] for t in d]
    lo, hi = d[2]["y"], d[3]["y"]
    widths = [h - l for l, h in zip(lo, hi) if isinstance(l, (int, float)) and isinstance(h, (int, float))]
    assert widths and max(widths) > 0.01 and min(widths) >= 0, widths
    fill = page.evaluate("() => document.getElementById('plot-align').data[3].fill")
    assert fill == "tonexty"
    expect(page.locator("#chart-align .align-spread")).to_contain_text("unbiased")
    page.locator("#chart-align").screenshot(path=str(shots_dir / "bio-align-uoro.png"))
    page.click("#btn-play")


def test_a_deterministic_rule_keeps_a_plain_alignment_line(page: Page, guard) -> None:  # noqa: ANN001
    open_and_play(page, f"#task=dnms&arch=rnn&rule=bptt&{QUICK}&alignment_every=1")
    wait_drawn(page, "plot-align", 0, 4)
    d = plot(page, "plot-align")["data"]
    assert [t["name"] for t in d] == ["network (W_rec, W_in, b)", "all, readout included"]
    expect(page.locator("#chart-align .align-spread")).to_be_hidden()
    page.click("#btn-play")


def test_a_click_on_the_weight_map_picks_the_synapse_to_follow(page: Page, guard) -> None:  # noqa: ANN001
    open_and_play(page, f"#task=dnms&arch=gru&rule=eprop&{QUICK}")
    synapse_curves(page)
    page.click("#btn-play")
    page.wait_for_function("() => window.__credit.status === 'paused'", timeout=30_000)
    canvas = page.locator("#plot-wrec canvas")
    assert canvas.evaluate("c => c.style.cursor") == "crosshair"
    box = canvas.bounding_box()
    row, col = 5, 2  # of the 12 × 12 W_hz drawn there
    canvas.click(position={"x": (col + 0.5) / 12 * box["width"], "y": (row + 0.5) / 12 * box["height"]})
    first = page.locator("#chart-synapses .synapse-pick").first
    expect(first).to_have_text("W_hz[5, 2]", timeout=30_000)
    expect(first).to_have_attribute("aria-pressed", "true")
    page.wait_for_function("() => document.getElementById('plot-synapses').data[0].y.some(v => v !== 0)", timeout=10_000)
