"""A room in the browser (issue 9): several audience contexts vote on a slider and the presenter's density plot
(Plotly's data) changes with each vote; poll text with a <script> is shown as text; an audience member who tries a
presenter control is refused and nothing changes; a password room shows nothing before the password."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

pytestmark = pytest.mark.browser

EVIL = 'How local can credit be? <script>window.__pwned = 1</script><img src="/x.png" onerror="window.__pwned = 2">'


def make_room(base: str, **body: Any) -> dict[str, Any]:
    with httpx.Client(base_url=base, timeout=30) as http:
        room = http.post("/api/rooms", json={"title": "Week 3", **body}).json()
        auth = {"Authorization": f"Bearer {room['presenter_token']}"}
        poll = http.post(f"/api/rooms/{room['code']}/polls", json={"kind": "slider", "question": EVIL},
                         headers=auth).json()
        assert http.post(f"/api/rooms/{room['code']}/polls/{poll['id']}/actions/open", headers=auth).status_code == 200
    return {**room, "poll": poll["id"]}


def density_of(page: Page, poll: str) -> dict[str, Any]:
    return page.evaluate("""(id) => { const d = document.querySelector(`[data-poll="${id}"] .plot`).data;
        return {y: d[0].y, votes: d[1].x}; }""", poll)


def test_votes_from_several_browsers_reshape_the_presenters_density(browser: Browser, base_url: str,
                                                                    new_guard) -> None:  # noqa: ANN001
    room = make_room(base_url)
    code, poll = room["code"], room["poll"]
    presenter = browser.new_context(base_url=base_url)
    presenter.add_cookies([{"name": f"creditlab_presenter_{code}", "value": room["presenter_token"],
                            "url": base_url}])
    guard = new_guard()
    show = presenter.new_page()
    guard.watch(show)
    show.goto(f"/rooms/{code}/present")
    show.wait_for_function(f"() => document.querySelector('[data-poll=\"{poll}\"] .plot')?.data", timeout=30_000)
    expect(show.locator(f'[data-poll="{poll}"] h3')).to_have_text(EVIL)  # shown as text, never run
    assert show.evaluate("() => window.__pwned") is None
    before = density_of(show, poll)
    assert before["votes"] == [] and max(before["y"]) == 0
    shapes = []
    audiences = []
    for value in (20, 25, 80):
        ctx = browser.new_context(base_url=base_url)
        audiences.append(ctx)
        page = ctx.new_page()
        guard.watch(page)
        page.goto(f"/rooms/{code}")
        card = page.locator(f'[data-poll="{poll}"]')
        expect(card.locator("h3")).to_have_text(EVIL)
        card.locator('input[type="range"]').fill(str(value))
        card.get_by_role("button", name="Vote").click()
        expect(card.locator(".mine")).to_contain_text(f"Your answer: {value}")
        n = len(shapes) + 1
        show.wait_for_function(f"""() => document.querySelector('[data-poll="{poll}"] .plot').data[1].x.length
                                   === {n}""", timeout=15_000)
        shapes.append(density_of(show, poll))
    assert shapes[-1]["votes"] == [20.0, 25.0, 80.0]
    ys = [s["y"] for s in shapes]
    assert ys[0] != ys[1] != ys[2]  # every vote reshaped the curve
    x = show.evaluate(f"() => document.querySelector('[data-poll=\"{poll}\"] .plot').data[0].x")
    peak = x[ys[-1].index(max(ys[-1]))]
    assert 15 <= peak <= 30  # two answers near 20-25 outweigh one at 80
    right = ys[-1][x.index(min(x, key=lambda v: abs(v - 80)))]
    assert 0 < right < max(ys[-1])  # and the lone 80 is a smaller bump

    # an audience member tries the presenter's controls: refused, and nothing changes
    intruder = audiences[0].new_page()
    guard.allow_console("403")
    guard.watch(intruder)
    intruder.goto(f"/rooms/{code}/present")
    card = intruder.locator(f'[data-poll="{poll}"]')
    expect(card).to_have_attribute("data-state", "open")
    card.locator('[data-action="close"]').click()
    expect(intruder.locator("#control-error")).to_contain_text("Refused (403)")
    status = intruder.evaluate(f"""async () => (await fetch('/api/rooms/{code}/shown', {{method: 'PUT',
        headers: {{'Content-Type': 'application/json'}}, body: JSON.stringify({{shown: null}})}})).status""")
    assert status == 403
    with httpx.Client(base_url=base_url) as http:
        now = http.get(f"/api/rooms/{code}", headers={"Authorization": f"Bearer {room['presenter_token']}"}).json()
    assert now["polls"][0]["state"] == "open" and now["polls"][0]["results"]["count"] == 3
    assert intruder.evaluate("() => window.__pwned") is None and show.evaluate("() => window.__pwned") is None
    guard.check()
    for ctx in (presenter, *audiences):
        ctx.close()


def test_a_password_room_shows_nothing_before_the_password(page: Page, guard, base_url: str) -> None:  # noqa: ANN001
    room = make_room(base_url, password="axon")
    guard.allow_console("403")
    page.goto(f"/rooms/{room['code']}")
    expect(page.locator("#join-form")).to_be_visible()
    assert "Week 3" not in page.content() and "How local" not in page.content()
    page.locator("#join-password").fill("dendrite")
    page.get_by_role("button", name="Join").click()
    expect(page.locator("#join-error")).to_contain_text("wrong password")
    page.locator("#join-password").fill("axon")
    page.get_by_role("button", name="Join").click()
    expect(page.locator(f'[data-poll="{room["poll"]}"] h3')).to_have_text(EVIL)
    guard.check()



def test_the_audience_follows_the_run_the_presenter_shows(browser: Browser, base_url: str, new_guard) -> None:  # noqa: ANN001
    room = make_room(base_url)
    code = room["code"]
    with httpx.Client(base_url=base_url, timeout=30) as http:
        made = http.post("/api/runs", json={"task": "add", "arch": "rnn", "rule": "bptt", "steps": 20},
                         headers={"Origin": base_url})
        assert made.status_code == 201, made.text
        run = made.json()["id"]
    guard = new_guard()
    audience = browser.new_context(base_url=base_url).new_page()
    guard.watch(audience)
    audience.goto(f"/rooms/{code}")
    expect(audience.locator("#shown-empty")).to_be_visible()
    presenter_ctx = browser.new_context(base_url=base_url)
    presenter_ctx.add_cookies([{"name": f"creditlab_presenter_{code}", "value": room["presenter_token"],
                                "url": base_url}])
    show = presenter_ctx.new_page()
    guard.watch(show)
    show.goto(f"/rooms/{code}/present")
    show.locator("#show-run").fill(f"{base_url}/#run={run}")  # a pasted watch link works as well as an id
    show.get_by_role("button", name="Show to the room").click()
    expect(show.locator("#shown-now")).to_contain_text(run)
    # the room socket told the audience page; the run comes through the room's relay (quantised, thinned)
    expect(audience.locator("#relay")).to_be_visible()
    expect(audience.locator("#shown-frame")).to_be_hidden()
    expect(audience.locator("#shown-empty")).to_be_hidden()
    expect(audience.locator("#relay-rule")).to_have_text("Live: bptt training rnn on add", timeout=30_000)
    expect(audience.locator("#relay-full")).to_have_attribute("href", f"/#run={run}")
    with httpx.Client(base_url=base_url, timeout=30) as http:  # the owner plays it: the audience page draws it
        http.post(f"/api/runs/{run}/control", json={"action": "play"},
                  headers={"Origin": base_url, "Authorization": f"Bearer {made.json()['owner_token']}"})
    audience.wait_for_function("""() => document.querySelector('#relay .relay-loss').data?.[0].x.length >= 2 &&
                                  document.querySelector('#relay .relay-weights').data?.[0].z.length > 0""",
                               timeout=60_000)
    guard.check()
    presenter_ctx.close()
    audience.context.close()
