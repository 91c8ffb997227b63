"""Spiking networks on the page (issue 8): a spike raster coloured by cell type, the membrane potential and
threshold of the most active neuron, and a sentence saying whether the network fires, is silent or saturates.
Assertions read canvas pixels and Plotly's drawn data."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

LIF = ("#task=evidence_accumulation&arch=lif&rule=eprop_lif&arch_config.hidden=24&arch_config.dale=true"
       "&batch=4&steps=100000")


def raster_colours(page: Page) -> list[list[int]]:
    return page.evaluate("""() => { const c = document.querySelector('#chart-spikes canvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; const seen = new Set();
        for (let i = 0; i < d.length; i += 4) seen.add(`${d[i]},${d[i+1]},${d[i+2]}`);
        return [...seen].map(s => s.split(',').map(Number)); }""")


def test_a_spiking_run_draws_its_spikes_by_cell_type_and_a_membrane(page: Page, guard, shots_dir: Path) -> None:  # noqa: ANN001
    page.goto("/" + LIF)
    page.wait_for_function("() => window.__credit && window.__credit.ready", timeout=30_000)
    page.click("#btn-play")
    page.wait_for_function("() => document.querySelector('#chart-spikes canvas')?.width > 1", timeout=90_000)
    page.wait_for_function("() => (document.getElementById('plot-membrane')?.data || []).length === 2", timeout=60_000)
    colours = raster_colours(page)
    excitatory, inhibitory = [213, 94, 0], [0, 114, 178]
    spiking = [c for c in colours if c != [250, 250, 250]]
    assert spiking, "no spike was drawn"
    # Dale's law: both cell types exist, and the raster uses their colours (adaptive ones darker)
    assert any(c in (excitatory, [150, 50, 0]) for c in spiking) or any(c in (inhibitory, [0, 60, 120]) for c in spiking)
    membrane = page.evaluate("() => document.getElementById('plot-membrane').data.map(t => ({name: t.name, n: t.y.length}))")
    assert [t["name"] for t in membrane] == ["membrane potential", "threshold"]
    T = page.evaluate("() => document.querySelector('#chart-spikes canvas').width")
    assert all(t["n"] == T for t in membrane)
    note = page.locator("#chart-spikes .spike-state")
    expect(note).to_have_attribute("data-state", "ok")
    expect(note).to_contain_text("Hz")
    page.locator("#chart-spikes").screenshot(path=str(shots_dir / "spikes.png"))
    page.click("#btn-play")


def test_a_silent_network_says_so(page: Page, guard) -> None:  # noqa: ANN001
    # No input reaches the neurons (input scale 0): nothing can make a neuron fire.
    page.goto("/#task=evidence_accumulation&arch=lif&rule=bptt&arch_config.hidden=12&arch_config.input_scale=0"
              "&batch=2&steps=100000")
    page.wait_for_function("() => window.__credit && window.__credit.ready", timeout=30_000)
    page.click("#btn-play")
    note = page.locator("#chart-spikes .spike-state")
    expect(note).to_have_attribute("data-state", "silent", timeout=90_000)
    expect(note).to_contain_text("silent")
    page.click("#btn-play")


def test_eprop_on_spiking_units_shows_the_spiking_variants_settings(page: Page, guard) -> None:  # noqa: ANN001
    """e-prop runs on `lif` through its spiking variant, whose settings differ (no `impl`, a `chunk`): switching
    the network keeps the rule and rebuilds its form from the variant, and the run that starts is accepted."""
    fields = "() => [...document.querySelectorAll('.fields[data-group=rule_config] [data-setting]')].map(e => e.dataset.setting)"
    page.goto("/#task=evidence_accumulation&arch=rnn&rule=eprop&arch_config.hidden=16&batch=4")
    page.wait_for_function("() => window.__credit && window.__credit.ready", timeout=30_000)
    assert "impl" in page.evaluate(fields)
    page.select_option("#pick-arch", "lif")
    expect(page.locator("#rule-eprop")).to_be_checked()
    shown = page.evaluate(fields)
    assert "impl" not in shown and "chunk" in shown, shown
    page.click("#btn-play")
    page.wait_for_function("() => (document.getElementById('plot-loss')?.data || []).some(t => (t.x || []).length > 0)",
                           timeout=90_000)
    page.click("#btn-play")
