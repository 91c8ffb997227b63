"""The sandbox in the browser (issue 9): the presenter opens it; three audience browsers each start their own copy
(the server runs two at a time here, so the third shows its place in the queue); the presenter's page counts
them; closing the sandbox stops them and takes the button away."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Browser, expect

pytestmark = pytest.mark.browser

SPEC = {"task": "add", "task_config": {"t1": 2, "t2": 3, "steps": 8}, "arch": "rnn", "arch_config": {"hidden": 64},
        "rule": "bptt", "batch": 2, "steps": 2000}


def test_audience_members_train_their_own_copies_and_the_presenter_counts_them(
        browser: Browser, base_url: str, new_guard) -> None:  # noqa: ANN001
    with httpx.Client(base_url=base_url, timeout=30) as http:
        room = http.post("/api/rooms", json={"title": "Try it"}).json()
    code = room["code"]
    guard = new_guard()
    presenter = browser.new_context(base_url=base_url)
    presenter.add_cookies([{"name": f"creditlab_presenter_{code}", "value": room["presenter_token"], "url": base_url}])
    show = presenter.new_page()
    guard.watch(show)
    show.goto(f"/rooms/{code}/present")
    with httpx.Client(base_url=base_url, timeout=30) as http:
        opened = http.put(f"/api/rooms/{code}/sandbox", json={"spec": SPEC},
                          headers={"Authorization": f"Bearer {room['presenter_token']}"})
        assert opened.status_code == 200, opened.text
    contexts, notes = [], []
    for _ in range(3):
        ctx = browser.new_context(base_url=base_url)
        page = ctx.new_page()
        guard.watch(page)
        page.goto(f"/rooms/{code}")
        expect(page.locator("#sandbox-what")).to_have_text("add · rnn (64 units) · bptt")
        page.get_by_role("button", name="Train your own copy").click()
        expect(page.locator("#sandbox-mine")).not_to_be_empty()
        contexts.append(ctx)
        notes.append(page.locator("#sandbox-mine"))
    expect(notes[2]).to_contain_text("place 1 in the queue", timeout=30_000)
    for note in notes[:2]:
        expect(note).to_contain_text(re.compile(r"Your copy is (running|done)"), timeout=60_000)
        expect(note.get_by_role("link", name="Watch it")).to_have_attribute("href", re.compile(r"^/#run=[0-9a-f]+$"))
    expect(show.locator("#sandbox-counts")).to_have_text(  # three started, the presenter sees where they are
        re.compile(r"Sandbox open \(add · rnn · bptt\): (2 running, 1 waiting, 0|1 running, [01] waiting, [12]|"
                   r"0 running, 0 waiting, 3) finished\."), timeout=15_000)

    show.get_by_role("button", name="Close the sandbox").click()
    expect(show.locator("#sandbox-counts")).to_have_text("No sandbox is open.")
    for ctx in contexts:
        expect(ctx.pages[0].locator("#sandbox")).to_be_hidden(timeout=15_000)
    expect(notes[2]).to_contain_text(re.compile("stopped|done"), timeout=15_000)  # stopped with the sandbox
    for ctx in (*contexts, presenter):
        ctx.close()
