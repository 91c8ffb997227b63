"""Guess the rule in the browser (issue 9): the presenter starts a run with its rule hidden; an audience page draws
its loss curve, activity and weights from the room's relay (Plotly's data), names the rule nowhere outside the
vote's options, takes a vote; after the reveal it shows the rule and the answer beside the votes."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Browser, expect

pytestmark = pytest.mark.browser

RULE = "rflo"
SPEC = {"task": "add", "task_config": {"t1": 2, "t2": 3, "steps": 8}, "arch": "rnn", "arch_config": {"hidden": 12},
        "rule": RULE, "batch": 2, "steps": 100_000}


def test_an_audience_page_draws_a_hidden_run_without_naming_its_rule_until_the_reveal(
        browser: Browser, base_url: str, new_guard) -> None:  # noqa: ANN001
    with httpx.Client(base_url=base_url, timeout=30) as http:
        room = http.post("/api/rooms", json={"title": "Guess"}).json()
        auth = {"Authorization": f"Bearer {room['presenter_token']}"}
        started = http.post(f"/api/rooms/{room['code']}/guess", json={"spec": SPEC}, headers=auth)
        assert started.status_code == 201, started.text
        poll = started.json()["poll"]
    guard = new_guard()
    ctx = browser.new_context(base_url=base_url)
    page = ctx.new_page()
    guard.watch(page)
    page.goto(f"/rooms/{room['code']}")
    page.wait_for_function("""() => { const d = document.querySelector('#relay .relay-loss').data;
        return d && d[0].x.length >= 3; }""", timeout=60_000)
    page.wait_for_function("() => document.querySelector('#relay .relay-activity').data?.[0].z.length > 0",
                           timeout=30_000)
    z = page.evaluate("() => document.querySelector('#relay .relay-weights').data[0].z")
    assert len(z) == 12 and len(z[0]) == 12 and len({round(v, 3) for row in z for v in row}) > 10  # real weights
    presenter = browser.new_context(base_url=base_url)
    presenter.add_cookies([{"name": f"creditlab_presenter_{room['code']}", "value": room["presenter_token"],
                            "url": base_url}])
    show = presenter.new_page()
    guard.watch(show)
    show.goto(f"/rooms/{room['code']}/present")  # often on the projector: the rule only on request
    expect(show.locator("#shown-now")).to_contain_text("with its rule hidden from the room")
    assert RULE not in show.locator("#shown-now").inner_text()
    expect(show.locator("#guess-answer-rule")).to_be_hidden()
    show.locator("#guess-answer summary").click()
    expect(show.locator("#guess-answer-rule")).to_have_text(RULE)
    presenter.close()
    shown = page.locator("#shown").inner_text().lower()
    assert RULE not in shown and "rule was" not in shown
    card = page.locator(f'[data-poll="{poll["id"]}"]')
    card.get_by_role("button", name=RULE, exact=True).click()
    expect(card.locator(".mine")).to_contain_text(f"Your answer: {RULE}")

    with httpx.Client(base_url=base_url, timeout=30) as http:
        assert http.post(f"/api/rooms/{room['code']}/guess/reveal", headers=auth).status_code == 200
    expect(page.locator("#relay-rule")).to_have_text(f"The rule was {RULE}.", timeout=15_000)
    expect(card.locator(".answer")).to_have_text(f"Answer: {RULE}")
    bars = page.evaluate(f"""() => {{ const d = document.querySelector('[data-poll="{poll["id"]}"] .plot').data[0];
        return {{x: d.x, y: d.y, colors: d.marker.color}}; }}""")
    answer = bars["x"].index(RULE)
    assert bars["y"][answer] == 1 and sum(bars["y"]) == 1
    assert len(set(bars["colors"])) == 2 and bars["colors"].count(bars["colors"][answer]) == 1  # the answer stands out
    with httpx.Client(base_url=base_url, timeout=30) as http:
        http.post(f"/api/runs/{started.json()['run']}/control", json={"action": "stop"}, headers=auth)
    ctx.close()
