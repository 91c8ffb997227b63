"""The chart classes on their own, in the real page: what a long run leaves drawn."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

pytestmark = pytest.mark.browser


def test_a_long_curve_keeps_its_start_and_ends_at_the_newest_update(page: Page, guard) -> None:  # noqa: ANN001
    page.goto("/")
    page.wait_for_function("() => window.Plotly && window.__credit && window.__credit.ready", timeout=30_000)
    drawn = page.evaluate("""async () => {
        const { LineChart } = await import('/static/js/plots/lines.js');
        const box = document.createElement('div');
        box.style.width = '400px'; box.style.height = '200px';
        document.body.append(box);
        const chart = new LineChart(box, { xTitle: 'update', yTitle: 'loss', name: 'loss', smooth: true });
        chart.reset('#0072b2');
        const sizes = [];
        for (let k = 1; k <= 30001; k++) {
            chart.push(k, 1 / k);
            if (k % 97 === 0 || k === 30001) { chart.flush(); sizes.push(box.data[0].x.length); }
        }
        return { raw: Array.from(box.data[0].x), rawY: Array.from(box.data[0].y),
                 trend: Array.from(box.data[1].x), received: chart.points, most: Math.max(...sizes) };
    }""")
    raw = drawn["raw"]
    assert drawn["received"] == 30001
    assert raw[0] == 1 and raw[-1] == 30001, (raw[0], raw[-1])  # the start is kept, the end is the newest update
    assert drawn["rawY"][-1] == pytest.approx(1 / 30001)
    assert all(b > a for a, b in zip(raw, raw[1:])), "drawn updates must stay in order, without repeats"
    assert drawn["most"] <= 4001 and len(raw) >= 1000, (drawn["most"], len(raw))
    assert drawn["trend"] == raw
