"""A prediction resolved by runs, in the browser (issue 9): the presenter opens "which reaches 90 % first?", two
audience browsers vote, the presenter resolves it on the presenter page from the runs' results, and each audience
page shows the answer with when each run reached the target, its bar drawn apart (Plotly's data)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect

from engine.spec import RunSpec, full_config, resolve

pytestmark = pytest.mark.browser

TINY = {"task": "add", "task_config": {"t1": 2, "t2": 3, "steps": 8}, "arch": "rnn", "arch_config": {"hidden": 6},
        "rule": "bptt", "batch": 2, "steps": 20}


def finished_runs(live: Any, histories: list[list[dict[str, Any]]]) -> list[str]:
    """Runs the server knows, finished with these histories (made on the server's loop, as its manager would)."""
    manager = live.app.state.manager
    loop = live.server.servers[0].get_loop()

    async def make() -> list[str]:
        ids = []
        for i, history in enumerate(histories):
            run = manager._new_run(f"predict{i}{id(history) % 9973}", full_config(resolve(RunSpec(**TINY))))
            run.history, run.step, run.status = history, history[-1]["step"], "done"
            manager.runs[run.id] = run
            ids.append(run.id)
        return ids

    return asyncio.run_coroutine_threadsafe(make(), loop).result(timeout=20)


def test_a_prediction_is_resolved_by_runs_and_every_audience_page_shows_the_answer(
        browser: Browser, base_url: str, live_server: Any, new_guard) -> None:  # noqa: ANN001
    with httpx.Client(base_url=base_url, timeout=30) as http:
        room = http.post("/api/rooms", json={"title": "Predictions"}).json()
        code, auth = room["code"], {"Authorization": f"Bearer {room['presenter_token']}"}
        poll = http.post(f"/api/rooms/{code}/polls", json={"kind": "prediction", "options": ["BPTT", "e-prop"],
                         "question": "Which reaches 90 % accuracy first?"}, headers=auth).json()
        assert http.post(f"/api/rooms/{code}/polls/{poll['id']}/actions/open", headers=auth).status_code == 200
    guard = new_guard()
    contexts, pages = [], []
    for choice in ("BPTT", "e-prop"):
        ctx = browser.new_context(base_url=base_url)
        page = ctx.new_page()
        guard.watch(page)
        page.goto(f"/rooms/{code}")
        card = page.locator(f'[data-poll="{poll["id"]}"]')
        card.get_by_role("button", name=choice, exact=True).click()
        expect(card.locator(".mine")).to_contain_text(f"Your answer: {choice}")
        contexts.append(ctx)
        pages.append(page)
    runs = finished_runs(live_server, [[{"step": 1, "accuracy": 0.3}, {"step": 12, "accuracy": 0.93}],
                                       [{"step": 1, "accuracy": 0.4}, {"step": 7, "accuracy": 0.91}]])

    presenter = browser.new_context(base_url=base_url)
    presenter.add_cookies([{"name": f"creditlab_presenter_{code}", "value": room["presenter_token"], "url": base_url}])
    show = presenter.new_page()
    guard.watch(show)
    show.goto(f"/rooms/{code}/present")
    own = show.locator(f'[data-poll="{poll["id"]}"]')
    own.get_by_label("Runs that settle it").fill(", ".join(runs))
    own.get_by_role("button", name="Resolve by the runs").click()
    expect(own.locator(".answer")).to_contain_text("Answer: e-prop")

    for page in pages:
        card = page.locator(f'[data-poll="{poll["id"]}"]')
        expect(card.locator(".answer")).to_have_text(
            "Answer: e-prop (first to 90 % accuracy; BPTT: update 12, e-prop: update 7)", timeout=15_000)
        bars = page.evaluate(f"""() => {{ const d = document.querySelector('[data-poll="{poll["id"]}"] .plot').data[0];
            return {{x: d.x, y: d.y, colors: d.marker.color}}; }}""")
        assert bars["x"] == ["BPTT", "e-prop"] and bars["y"] == [1, 1]  # every vote, drawn
        assert bars["colors"][0] != bars["colors"][1]  # the answer's bar stands apart
        expect(card.locator(".vote")).to_be_hidden()  # resolved: closed to votes
    for ctx in (*contexts, presenter):
        ctx.close()
