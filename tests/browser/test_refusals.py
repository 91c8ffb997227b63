"""Issue 6 §7: a size refusal appears beside the setting it concerns (the 422's loc), read once."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def test_rtrl_refusal_stands_under_the_rule_and_reads_once(page: Page, guard) -> None:  # noqa: ANN001
    guard.allow_console("status of 422")  # the browser logs every refused request; here that is the point
    page.goto("/#task=dnms&arch=rnn&rule=rtrl&arch_config.hidden=256")
    page.wait_for_function("() => window.__credit && window.__credit.ready", timeout=30_000)
    page.click("#btn-play")
    err = page.locator("#rule-error")
    expect(err).to_be_visible()
    expect(err).to_contain_text("RTRL")
    text = err.text_content() or ""
    assert not text.startswith("rule:") and "rule: rule" not in text, text
    expect(page.locator("#general-error")).to_be_empty()
    assert page.evaluate("() => window.__credit.runId") is None
