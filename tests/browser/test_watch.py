"""Issue 6 §5, the page's side: a run link opened without the owner's token is a watch link. It shows everything
live, but no Play / Step / Reset; a "Watching" badge and a button to start one's own copy stand in their place.
The owner token stays in localStorage and never in the address."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from drawn import finite, plot, wait_drawn

pytestmark = pytest.mark.browser

SETUP = "#task=dnms&arch=rnn&rule=eprop&arch_config.hidden=16&batch=8&steps=100000"


def ready(page: Page) -> None:
    page.wait_for_function("() => window.__credit && window.__credit.ready", timeout=30_000)


def test_a_run_link_without_the_token_is_a_watch_link(page: Page, browser: Browser, guard, live_server,  # noqa: ANN001
                                                     shots_dir: Path) -> None:
    page.goto("/" + SETUP)
    ready(page)
    page.click("#btn-play")
    wait_drawn(page, "plot-loss", 0, 3)
    url = page.evaluate("() => location.href")
    token = page.evaluate("() => localStorage.getItem('creditlab.owner')")
    if token:
        assert token not in url, "the owner token must never be in the address"
    expect(page.locator("#btn-play")).to_be_visible()
    expect(page.locator("#watching")).to_be_hidden()

    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=live_server.url)  # fresh storage
    try:
        other = ctx.new_page()
        guard.watch(other)
        other.goto(url)
        ready(other)
        badge = other.locator("#watching .badge")
        expect(badge).to_be_visible()
        expect(badge).to_have_text("Watching")
        for sel in ("#btn-play", "#btn-step", "#btn-reset"):
            expect(other.locator(sel)).to_be_hidden()
        assert other.get_by_role("button", name="Stop").count() == 0
        expect(other.locator("#btn-copy")).to_be_visible()
        # Everything stays live: the loss chart keeps growing while the owner's run trains.
        wait_drawn(other, "plot-loss", 0, 3)
        n = len(finite(plot(other, "plot-loss")["data"][0]["y"]))
        wait_drawn(other, "plot-loss", 0, n + 3)
        # The weight heatmap is painted too (canvas pixels, not just a counter).
        other.wait_for_function("""() => { const c = document.querySelector('#plot-wrec canvas');
            if (!c || c.width < 2) return false;
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            for (let i = 3; i < d.length; i += 4) if (d[i] > 0) return true;
            return false; }""", timeout=30_000)
        # Keys do nothing for a watcher.
        other.locator("#status-text").click()
        other.keyboard.press("Space")
        other.wait_for_timeout(500)
        assert other.evaluate("() => window.__credit.runId") == page.evaluate("() => window.__credit.runId")
        other.screenshot(path=str(shots_dir / "watch-link.png"))

        # "Start my own copy": a new run with the same setup, owned by this browser.
        other.click("#btn-copy")
        other.wait_for_function(f"() => window.__credit.runId && window.__credit.runId !== {page.evaluate('() => window.__credit.runId')!r}",
                                timeout=30_000)
        expect(other.locator("#watching")).to_be_hidden()
        expect(other.locator("#btn-play")).to_be_visible()
        assert "rule=eprop" in other.evaluate("() => location.hash")
    finally:
        ctx.close()


def test_slow_setup_is_estimated_before_play(page: Page, guard) -> None:  # noqa: ANN001
    page.goto("/#task=dnms&arch=rnn&rule=rtrl&arch_config.hidden=96&rule_config.max_memory_mb=65536")
    ready(page)
    est = page.locator("#estimate")
    expect(est).to_contain_text("per update", timeout=30_000)
    expect(est).to_have_class("estimate is-slow")
    expect(page.locator("#status-text")).to_contain_text("Slow set-up")
    page.goto("/" + SETUP)
    ready(page)
    expect(est).to_contain_text("per update", timeout=30_000)
    expect(est).not_to_have_class("estimate is-slow")
