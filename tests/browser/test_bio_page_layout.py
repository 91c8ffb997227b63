"""Issue 8's page parts at a phone's 375 px, a small projector's 1024 px, and in projector mode: every weight matrix,
a GRU's gates and one synapse's credit stay inside their chart boxes, and none widens the page. Reads the drawn
boxes' geometry (and saves screenshots)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page

pytestmark = pytest.mark.browser

FIGURES = ("chart-matrices", "chart-variables", "chart-synapses", "chart-align")


def overflow(page: Page) -> dict:
    """The page's width against the viewport's, and every element of FIGURES that sticks out of its figure."""
    return page.evaluate("""ids => { const out = []; const vw = document.documentElement.clientWidth;
        for (const id of ids) { const f = document.getElementById(id); if (!f) { out.push(id + ' missing'); continue; }
          const r = f.getBoundingClientRect(); if (r.right > vw + 1) out.push(id + ' wider than the page');
          for (const el of f.querySelectorAll('*')) { const q = el.getBoundingClientRect();
            if (q.width && (q.right > r.right + 1 || q.left < r.left - 1))
              out.push(`${id} ${el.tagName}.${el.getAttribute('class')} ${Math.round(q.left)}–${Math.round(q.right)}`); } }
        return {bad: out.slice(0, 10), width: document.documentElement.scrollWidth, vw}; }""", list(FIGURES))


def test_bio_parts_fit_a_phone_a_projector_and_projector_mode(page: Page, guard, shots_dir: Path) -> None:  # noqa: ANN001
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto("/#task=dnms&arch=gru&rule=eprop&arch_config.hidden=12&batch=4&steps=100000")
    page.wait_for_function("() => window.__credit && window.__credit.ready", timeout=30_000)
    page.click("#btn-play")
    page.wait_for_function("() => (document.getElementById('plot-synapses')?.data || []).length === 3"
                           " && document.querySelectorAll('#chart-variables canvas').length === 2"
                           " && document.querySelectorAll('#chart-matrices canvas').length === 7", timeout=60_000)
    page.click("#btn-play")  # paused: the layout settles
    page.wait_for_function("() => window.__credit.status === 'paused'", timeout=30_000)
    for width, projector in ((375, False), (1024, False), (1024, True)):
        page.set_viewport_size({"width": width, "height": 800})
        if projector:
            page.click("#btn-projector")
            page.wait_for_function("() => document.documentElement.classList.contains('projector')")
        page.wait_for_timeout(800)  # Plotly follows a resize after a frame
        m = overflow(page)
        assert not m["bad"], (width, projector, m["bad"])
        assert m["width"] <= m["vw"], (width, projector, m)
        for fig in FIGURES:
            page.locator(f"#{fig}").screenshot(path=str(shots_dir / f"bio-{width}{'-projector' if projector else ''}-{fig}.png"))
    page.click("#btn-projector")
