"""What a chart has drawn, read from the page: a Plotly chart's traces and layout (``el.data`` / ``el.layout``)."""

from __future__ import annotations

import math
from typing import Any

from playwright.sync_api import Page


def plot(page: Page, plot_id: str) -> dict[str, Any]:
    """{data: [{name, x, y, mode}], shapes, annotations} of a drawn Plotly chart (empty when not drawn)."""
    return page.evaluate("""id => {
        const el = document.getElementById(id);
        if (!el || !el.data) return {data: [], shapes: [], annotations: []};
        const arr = (v) => v ? Array.from(v) : [];
        return {
            data: el.data.map(t => ({name: t.name || "", x: arr(t.x), y: arr(t.y), mode: t.mode || ""})),
            shapes: (el.layout.shapes || []).map(s => ({...s})),
            annotations: (el.layout.annotations || []).map(a => ({text: a.text, y: a.y})),
        };
    }""", plot_id)


def finite(values: list[Any]) -> list[float]:
    return [v for v in values if isinstance(v, (int, float)) and math.isfinite(v)]


def wait_drawn(page: Page, plot_id: str, trace: int, n: int, timeout: float = 60_000) -> None:
    """Wait until trace ``trace`` of a Plotly chart has at least ``n`` finite y values."""
    page.wait_for_function(
        """([id, k, n]) => { const el = document.getElementById(id);
            const t = el && el.data && el.data[k];
            return Boolean(t) && Array.from(t.y || []).filter(v => typeof v === 'number' && isFinite(v)).length >= n; }""",
        arg=[plot_id, trace, n], timeout=timeout)
