"""A lesson is a URL: ``/lessons/{name}`` shows the question before anything else, hides "what to look at" until
revealed, and its preset buttons open the lab with that run's spec in the URL hash (the lab's pickers and fields
take it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def test_the_lesson_page_loads_and_a_preset_opens_the_lab_with_its_spec(page: Page, guard,  # noqa: ANN001
                                                                         shots_dir: Path) -> None:
    page.goto("/lessons/fixed-circuit")
    expect(page.locator("#lesson-title")).to_have_text("Is a fixed circuit enough?")
    expect(page.locator("#lesson-question")).to_contain_text("Will it solve DNMS")
    expect(page.locator("#lesson-look")).to_be_hidden()  # the answer waits until the class has answered
    page.click("#btn-reveal")
    expect(page.locator("#lesson-look")).to_be_visible()
    expect(page.locator("#lesson-body h2").first).to_have_text("Learning in the readout only")  # Markdown rendered
    page.screenshot(path=str(shots_dir / "lesson-fixed-circuit.png"), full_page=True)

    link = page.locator('a.run-link[data-run="hard/eprop"]')
    expect(link).to_have_text("eprop")
    link.click()
    page.wait_for_function("() => window.__credit && window.__credit.ready", timeout=30_000)
    assert page.evaluate("() => location.pathname") == "/"
    hash_ = page.evaluate("() => location.hash")
    for part in ("task=dnms", "rule=eprop", "task_config.delay=20", "task_config.distractors=4",
                 "arch_config.hidden=64", "steps=300"):
        assert part in hash_, (part, hash_)
    expect(page.locator("#pick-task")).to_have_value("dnms")
    expect(page.locator('input[name="rule"]:checked')).to_have_value("eprop")
    expect(page.locator('[name="task_config.delay"]')).to_have_value("20")
    expect(page.locator('[name="arch_config.hidden"]')).to_have_value("64")
    guard.check()


def test_a_comparison_preset_opens_as_one_comparison(page: Page, guard, live_server) -> None:  # noqa: ANN001
    import httpx

    page.goto("/lessons/fixed-circuit")
    page.locator('button.compare-preset[data-preset="hard"]').click()
    page.wait_for_url("**/compare/*", timeout=30_000)
    cmp_id = page.evaluate("() => location.pathname.split('/').pop()")
    made = httpx.get(f"{live_server.url}/api/comparisons/{cmp_id}").json()
    # the lesson's preset, verbatim: its members, on its task settings, owned by this browser
    assert [m["run"]["spec"]["rule"] for m in made["members"]] == ["readout", "eprop"]
    assert all(m["run"]["spec"]["task_config"]["delay"] == 20 for m in made["members"])
    assert page.evaluate("() => localStorage.getItem('creditlab.owner')")
    httpx.post(f"{live_server.url}/api/comparisons/{cmp_id}/control", json={"action": "stop"},
               headers={"Authorization": "Bearer " + page.evaluate("() => localStorage.getItem('creditlab.owner')"),
                        "Origin": live_server.url})
