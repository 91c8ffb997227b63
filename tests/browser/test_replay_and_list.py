"""Saved runs in the browser (issue 7): a replay's scrubber shows the weights of the update it is moved to, and
the run list deletes a run after a confirmation. Assertions read what is drawn (canvas data and pixels, Plotly's
data)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from playwright.sync_api import Page, expect

from app.protocol import decode_snapshot

pytestmark = pytest.mark.browser

SPEC = {"task": "dnms", "arch": "rnn", "arch_config": {"hidden": 12}, "rule": "eprop", "batch": 4, "steps": 60}


def finished_run(base: str) -> tuple[str, str]:
    """A run trained to its end through the API: (id, owner token)."""
    with httpx.Client(base_url=base, timeout=30) as http:
        made = http.post("/api/runs", json=SPEC, headers={"Origin": base})
        assert made.status_code == 201, made.text
        run, token = made.json()["id"], made.json()["owner_token"]
        auth = {"Authorization": f"Bearer {token}", "Origin": base}
        deadline = time.monotonic() + 90
        while http.get(f"/api/runs/{run}").json()["status"] != "done":
            status = http.get(f"/api/runs/{run}").json()["status"]
            if status == "paused":
                http.post(f"/api/runs/{run}/control", json={"action": "play"}, headers=auth)
            assert time.monotonic() < deadline, "the run did not finish"
            time.sleep(0.2)
    return run, token


def wrec_pixels(page: Page) -> list[int]:
    return page.evaluate("""() => { const c = document.querySelector('#replay-wrec canvas');
        return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data); }""")


def test_scrubbing_to_the_middle_shows_that_steps_weights(page: Page, guard, live_server, shots_dir: Path) -> None:  # noqa: ANN001
    run, _ = finished_run(live_server.url)
    page.goto(f"/replay/{run}")
    page.wait_for_function("() => window.__replay && window.__replay.ready", timeout=30_000)
    drawn: Any = page.evaluate("() => document.getElementById('replay-loss').data[0].x")
    assert drawn[0] == 1 and drawn[-1] == 60  # the whole run's loss
    at_end = wrec_pixels(page)
    page.locator("#scrub").fill("31")  # keyframes every 3 updates: the latest at or before 31 is 30
    page.wait_for_function("() => window.__replay.keyframe === 30", timeout=30_000)
    shown = np.array(page.evaluate("() => Array.from(window.__replay.wrec.raster.last.data)"), dtype=np.float32)
    frame = httpx.get(f"{live_server.url}/api/runs/{run}/frames/30").content
    _, arrays = decode_snapshot(frame)
    assert np.array_equal(shown, arrays["weights.W_rec"].ravel())  # what the canvas drew is step 30's matrix
    first = np.asarray(decode_snapshot(httpx.get(f"{live_server.url}/api/runs/{run}/frames/0").content)[1]["weights.W_rec"])
    assert not np.array_equal(shown, first.ravel())  # and not the initial one
    assert wrec_pixels(page) != at_end  # the picture changed with the scrubber
    line = page.evaluate("() => document.getElementById('replay-loss').layout.shapes[0].x0")
    assert line == 31
    expect(page.locator("#scrub-at")).to_contain_text("weights from update 30")
    page.screenshot(path=str(shots_dir / "replay.png"), full_page=True)


def test_the_run_list_deletes_after_a_confirmation(page: Page, guard, live_server) -> None:  # noqa: ANN001
    run, token = finished_run(live_server.url)
    page.goto("/")
    page.evaluate(f"() => localStorage.setItem('creditlab.owner', {token!r})")
    page.goto("/runs")
    row = page.locator(f"tr[data-run='{run}']")
    expect(row).to_be_visible()
    expect(row).to_contain_text("dnms · rnn · eprop")
    page.set_viewport_size({"width": 375, "height": 700})  # a phone: the table scrolls in its box, not the page
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 375
    page.set_viewport_size({"width": 1280, "height": 800})
    page.once("dialog", lambda d: d.dismiss())
    row.get_by_role("button", name=f"Delete run {run}").click()
    expect(row).to_be_visible()  # dismissed: nothing happens
    assert httpx.get(f"{live_server.url}/api/runs/{run}").status_code == 200
    page.once("dialog", lambda d: d.accept())
    row.get_by_role("button", name=f"Delete run {run}").click()
    expect(row).to_have_count(0)
    assert httpx.get(f"{live_server.url}/api/runs/{run}").status_code == 404
