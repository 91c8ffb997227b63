"""The presenter layout (projector mode): one screen for a room, at a small projector's 1024×768 and at 1920×1080.

With a run training, the one-line set-up and the four charts a lesson talks about (loss, accuracy, recurrent
alignment, activity) lie inside the viewport with no scrolling either way, every chart title and the header read
at 18 px or more and take at most two lines, the example trial is smaller than a key chart, and the live charts
are drawn at their new size. Turning the mode off brings the set-up panels back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from drawn import plot, wait_drawn

pytestmark = pytest.mark.browser

SETUP = "#task=dnms&arch=rnn&rule=eprop&arch_config.hidden=16&batch=8&steps=100000"
KEY = ("chart-loss", "chart-acc", "chart-align", "chart-activity")
SIZES = ((1024, 768), (1280, 800), (1920, 1080))


def measure(page: Page) -> dict[str, Any]:
    """Boxes (viewport coordinates), font sizes and title line counts of what the presenter layout shows."""
    return page.evaluate("""() => {
        const box = (el) => { const r = el.getBoundingClientRect();
                              return {x: r.left, y: r.top, right: r.right, bottom: r.bottom, w: r.width, h: r.height}; };
        const px = (el) => parseFloat(getComputedStyle(el).fontSize);
        const charts = {};
        for (const fig of document.querySelectorAll('#charts > figure.chart')) {
            const h2 = fig.querySelector('h2');
            const lh = parseFloat(getComputedStyle(h2).lineHeight) || 1.2 * px(h2);
            const area = fig.querySelector('.plot, .raster');
            charts[fig.id] = {box: box(fig), plot: box(area), title: px(h2),
                              lines: Math.round(h2.getBoundingClientRect().height / lh)};
        }
        const svg = document.querySelector('#plot-loss .main-svg');
        return {
            vw: window.innerWidth, vh: window.innerHeight,
            scrollWidth: document.documentElement.scrollWidth, scrollY: window.scrollY,
            charts, lossSvg: svg ? box(svg) : null,
            line: box(document.getElementById('setup-line')),
            pickers: ['quick-task', 'quick-arch', 'quick-rule'].map(id => box(document.getElementById(id))),
            fonts: {status: px(document.getElementById('status-text')), line: px(document.querySelector('.quick')),
                    play: px(document.getElementById('btn-play')), stat: px(document.getElementById('stat-step'))},
            ticks: document.getElementById('plot-loss')._fullLayout?.xaxis?.tickfont?.size ?? null,
        };
    }""")


def inside(b: dict[str, float], vw: int, vh: int) -> bool:
    return b["x"] >= 0 and b["y"] >= 0 and b["right"] <= vw + 0.5 and b["bottom"] <= vh + 0.5


def check_presenter(page: Page, vw: int, vh: int) -> dict[str, Any]:
    m = measure(page)
    assert m["scrollY"] == 0
    assert m["scrollWidth"] <= vw, f"horizontal scroll at {vw}×{vh}: the page is {m['scrollWidth']} px wide"
    assert inside(m["line"], vw, vh) and all(inside(p, vw, vh) and p["w"] > 40 for p in m["pickers"]), m["line"]
    assert m["line"]["h"] <= 50, f"the set-up takes more than one line at {vw}×{vh}: {m['line']}"
    for cid in KEY:
        c = m["charts"][cid]
        assert inside(c["box"], vw, vh), f"{cid} is not on the first screen at {vw}×{vh}: {c['box']}"
        assert c["plot"]["h"] >= 150 and c["plot"]["w"] >= 300, f"{cid} is squeezed at {vw}×{vh}: {c['plot']}"
        assert c["lines"] <= 2, f"{cid}'s title takes {c['lines']} lines at {vw}×{vh}"
    for cid, c in m["charts"].items():
        assert c["title"] >= 18, f"{cid}'s title is {c['title']} px in presenter mode"
    assert min(m["fonts"].values()) >= 18, m["fonts"]
    assert m["ticks"] is not None and m["ticks"] >= 18, m["ticks"]
    # The live loss chart was redrawn at its new size (Plotly's own SVG fills the plot box).
    svg, area = m["lossSvg"], m["charts"]["chart-loss"]["plot"]
    assert svg and abs(svg["w"] - area["w"]) <= 2 and abs(svg["h"] - area["h"]) <= 2, (svg, area)
    # The example trial is a small chart below, not the largest slot.
    trial, loss = m["charts"]["chart-trial"]["box"], m["charts"]["chart-loss"]["box"]
    assert trial["w"] <= loss["w"] + 1 and trial["y"] >= loss["bottom"], (trial, loss)
    return m


def test_presenter_layout_fits_one_screen(browser: Browser, live_server, new_guard, shots_dir: Path) -> None:  # noqa: ANN001
    ctx = browser.new_context(viewport={"width": 1024, "height": 768}, base_url=live_server.url)
    guard = new_guard()
    try:
        page = ctx.new_page()
        guard.watch(page)
        # Generous waits: on a loaded machine (two cores shared) a page load and a trainer's start take long.
        page.goto("/" + SETUP, timeout=90_000)
        page.wait_for_function("() => window.__credit && window.__credit.ready && window.__credit.previews > 0",
                               timeout=60_000)
        # 20 updates/s: live, but light enough that a loaded machine's browser still answers at full size.
        page.select_option("#speed", "20")
        page.click("#btn-play")
        wait_drawn(page, "plot-loss", 0, 3, timeout=150_000)

        page.locator("#status-text").click()
        page.keyboard.press("p")
        expect(page.locator("html")).to_have_class(_projector())
        expect(page.locator("#pipeline")).to_be_hidden()
        expect(page.locator("#setup-line")).to_be_visible()
        for vw, vh in SIZES:
            page.set_viewport_size({"width": vw, "height": vh})
            page.evaluate("() => window.scrollTo(0, 0)")
            n = page.evaluate("() => window.__credit.curveFrames")
            page.wait_for_function(f"() => window.__credit.curveFrames > {n + 1}", timeout=60_000)
            page.wait_for_timeout(300)  # the resize reaches Plotly after a frame
            check_presenter(page, vw, vh)
            page.screenshot(path=str(shots_dir / f"presenter-{vw}x{vh}.png"))
        assert len(plot(page, "plot-loss")["data"]) >= 1
        page.keyboard.press("Space")  # pause: the rest is about the controls
        page.wait_for_function("() => window.__credit.status === 'paused'", timeout=60_000)

        # The one-line set-up's pickers work in place: the same choice as the panels, in the address too.
        page.select_option("#quick-rule", "bptt")
        expect(page.locator("#rule-bptt")).to_be_checked()
        assert "rule=bptt" in page.evaluate("() => location.hash")
        page.select_option("#quick-task", "add")
        assert page.locator("#pick-task").input_value() == "add"

        # Off again: the set-up panels come back, the one-line set-up gives way, still no horizontal scroll.
        page.set_viewport_size({"width": 1280, "height": 800})
        page.click("#btn-projector")
        expect(page.locator("html")).not_to_have_class(_projector())
        expect(page.locator("#pipeline")).to_be_visible()
        expect(page.locator("#setup-line")).to_be_hidden()
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 1280
        page.screenshot(path=str(shots_dir / "presenter-off-1280x800.png"))
        # … and stay back after a reload (folding them was the page's doing, not remembered as the person's).
        page.reload(timeout=90_000)
        page.wait_for_function("() => window.__credit && window.__credit.ready", timeout=60_000)
        expect(page.locator("#pipeline")).to_be_visible()
        guard.check()
    finally:
        ctx.close()


def test_presenter_mode_is_remembered_and_set_up_opens_in_it(page: Page, guard) -> None:  # noqa: ANN001
    page.goto("/" + SETUP, timeout=90_000)
    page.wait_for_function("() => window.__credit && window.__credit.ready", timeout=60_000)
    page.click("#btn-projector")
    expect(page.locator("#pipeline")).to_be_hidden()
    page.reload()
    page.wait_for_function("() => window.__credit && window.__credit.ready", timeout=60_000)
    expect(page.locator("html")).to_have_class(_projector())
    expect(page.locator("#pipeline")).to_be_hidden()
    # The set-up can be opened for a moment in presenter mode …
    page.click("#btn-setup")
    expect(page.locator("#pipeline")).to_be_visible()
    expect(page.locator("#btn-setup")).to_have_attribute("aria-expanded", "true")
    # … and the panels are folded again the next time presenter mode starts; off, they are as the person left them.
    page.click("#btn-projector")
    expect(page.locator("#pipeline")).to_be_visible()
    page.click("#btn-projector")
    expect(page.locator("#pipeline")).to_be_hidden()
    page.click("#btn-projector")
    expect(page.locator("#pipeline")).to_be_visible()


def _projector():  # noqa: ANN202
    import re

    return re.compile(r"\bprojector\b")
