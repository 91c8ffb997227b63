"""The one-screen lab in headless Chromium against a real server.

Waits poll what the page exposes (``window.__credit`` counters) with deadlines; the only fixed waits are the short
observation windows that check that nothing changes after Pause.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

pytestmark = pytest.mark.browser

TASK, ARCH, RULE = "dnms", "rnn", "eprop"
# Small and quick on two cores, and long enough that the run does not finish during a test.
SMALL = {"arch_config.hidden": "16", "batch": "8", "steps": "100000"}
SMALL_HASH = f"#task={TASK}&arch={ARCH}&rule={RULE}&arch_config.hidden=16&batch=8&steps=100000"


def credit(page: Page) -> dict[str, Any]:
    return page.evaluate("() => ({...window.__credit})")


STILL = """() => {
    const c = window.__credit, cv = document.querySelector('#chart-wrec canvas');
    let pixels = 0;
    if (cv) { const d = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data;
              for (let i = 0; i < d.length; i += 3) pixels = (pixels * 31 + d[i]) >>> 0; }
    const xs = document.getElementById('plot-loss').data.flatMap(t => Array.from(t.x || []));
    return {step: c.step, metrics: c.metricsReceived, loss_points: c.lossPoints, loss_last: Math.max(...xs), pixels};
}"""


def still(page: Page) -> dict[str, Any]:
    """What the page shows of a run: the step, the drawn loss curve's reach, a hash of the weight map's pixels."""
    return page.evaluate(STILL)


def settled(page: Page, tries: int = 30) -> dict[str, Any]:
    """``still`` once two readings 0.6 s apart agree (a run that keeps streaming never settles: fail)."""
    a = still(page)
    for _ in range(tries):
        page.wait_for_timeout(600)
        b = still(page)
        if a == b:
            return b
        a = b
    raise AssertionError(f"the page never settled after Pause: last {a}")


def wait_for(page: Page, condition: str, timeout: float = 45_000) -> None:
    """Wait until a JS expression over ``c`` (= window.__credit) is true."""
    page.wait_for_function(f"() => {{ const c = window.__credit; return Boolean(c && ({condition})); }}",
                           timeout=timeout)


def open_lab(page: Page, hash_: str = "") -> None:
    page.goto("/" + hash_)
    wait_for(page, "c.ready && c.previews > 0", 30_000)


def set_field(page: Page, path: str, value: str) -> None:
    field = page.locator(f'.field[data-path="{path}"]')
    field.evaluate("f => { const d = f.closest('details'); if (d) d.open = true; }")
    box = field.locator("input, select").first
    if box.evaluate("e => e.tagName") == "SELECT":
        box.select_option(value)
    else:
        box.fill(value)


def field_value(page: Page, path: str) -> str:
    return page.locator(f'.field[data-path="{path}"]').locator("input, select").first.input_value()


def pick(page: Page, task: str, arch: str, rule: str) -> None:
    page.select_option("#pick-task", task)
    page.select_option("#pick-arch", arch)
    page.click(f'label[for="rule-{rule}"]')
    expect(page.locator(f"#rule-{rule}")).to_be_checked()


def test_catalog_has_the_lesson_setup(page: Page, guard) -> None:  # noqa: ANN001
    open_lab(page)
    tasks = page.locator("#pick-task option").all_inner_texts()
    archs = page.locator("#pick-arch option").all_inner_texts()
    rules = page.locator("#rule-list input[type=radio]").evaluate_all("els => els.map(e => e.value)")
    assert TASK in tasks and ARCH in archs and RULE in rules
    # Every control has an accessible name (a label, its text, or aria-label).
    unnamed = page.evaluate("""() => [...document.querySelectorAll('button, input, select, textarea')]
        .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                      && !(el.tagName === 'BUTTON' && el.textContent.trim()))
        .map(el => el.id || el.outerHTML.slice(0, 80))""")
    assert not unnamed, f"controls without an accessible name: {unnamed}"
    # Every generated field shows its help text and its bounds.
    helps = page.locator(".fields .field .help").all_text_contents()
    assert helps and all("Default:" in h for h in helps)
    # Every rule has a colour swatch; BPTT's is black.
    bptt = page.locator('label[for="rule-bptt"] .swatch').evaluate("e => getComputedStyle(e).backgroundColor")
    assert bptt == "rgb(0, 0, 0)"


def test_train_pause_and_share(page: Page, browser: Browser, guard, live_server, shots_dir: Path) -> None:  # noqa: ANN001
    open_lab(page)
    pick(page, TASK, ARCH, RULE)
    for path, value in SMALL.items():
        set_field(page, path, value)
    hash_ = page.evaluate("() => location.hash")
    assert f"rule={RULE}" in hash_ and "arch_config.hidden=16" in hash_ and "&batch=8&" in hash_
    # The task's trial structure is on screen before any training.
    expect(page.locator("#chart-trial")).to_have_class(lambda_has_data())

    page.click("#btn-play")
    wait_for(page, "c.status === 'running' && c.lossPoints >= 3 && c.heatmapFrames >= 2", 60_000)
    before = credit(page)
    # Training goes on: the drawn loss curve reaches further, and the weight heatmap is redrawn.
    last_x = "Math.max(...document.getElementById('plot-loss').data.flatMap(t => Array.from(t.x || [])))"
    x0 = page.evaluate(f"() => {last_x}")
    wait_for(page, f"{last_x} > {x0 + 3} && c.heatmapFrames > {before['heatmapFrames']}", 90_000)
    expect(page.locator("#btn-play")).to_have_accessible_name("Pause")
    expect(page.locator("#btn-step")).to_have_attribute("aria-disabled", "true")
    assert "Pause first" in (page.locator("#step-reason").text_content() or "")
    expect(page.locator("#chart-loss")).to_have_class(lambda_has_data())
    expect(page.locator("#chart-wrec")).to_have_class(lambda_has_data())
    wait_for(page, "c.snapshotsDrawn >= 3")
    page.evaluate("() => { document.querySelectorAll('details[open]').forEach(d => d.open = false); window.scrollTo(0, 0); }")
    n = credit(page)["framesRendered"]
    wait_for(page, f"c.framesRendered > {n + 2}")  # redrawn after the panels closed
    page.screenshot(path=str(shots_dir / "desktop-1440x900.png"))
    page.screenshot(path=str(shots_dir / "desktop-1440-full.png"), full_page=True)
    page.click("#btn-setup")  # hide the set-up: the charts get the screen
    expect(page.locator("#pipeline")).to_be_hidden()
    n = credit(page)["framesRendered"]
    wait_for(page, f"c.framesRendered > {n + 2}")
    page.screenshot(path=str(shots_dir / "desktop-1440x900-charts.png"))
    page.click("#btn-setup")
    expect(page.locator("#pipeline")).to_be_visible()

    page.click("#btn-play")
    wait_for(page, "c.status === 'paused'")
    # What was already on the wire arrives and is drawn (on a loaded machine the page may need a few seconds to
    # catch up); then nothing drawn may change over a 1.5 s window: the loss curve's data, the weight map's pixels.
    a = settled(page)
    page.wait_for_timeout(1500)
    b = still(page)
    assert a == b, f"the page kept changing after Pause: {a} → {b}"
    assert a["loss_points"] == a["step"] > 0, a
    expect(page.locator("#btn-step")).not_to_have_attribute("aria-disabled", "true")

    # The address holds the whole setup and the run: another browser sees the same settings and the history.
    url = page.evaluate("() => location.href")
    run_id = credit(page)["runId"]
    assert f"run={run_id}" in url
    other_ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        other = other_ctx.new_page()
        guard.watch(other)
        other.goto(url)
        # a long history arrives thinned (at most 2000 points, first and last kept): the curve ends where the run is
        wait_for(other, f"c.ready && c.hellos > 0 && c.lossPoints >= {min(a['loss_points'], 1000)}", 30_000)
        drawn_x = other.evaluate("() => { const d = document.getElementById('plot-loss').data;"
                                 " return d.flatMap(t => Array.from(t.x || [])); }")
        assert max(drawn_x) == a["step"] and min(drawn_x) == 1, (min(drawn_x), max(drawn_x), a["step"])
        assert other.locator("#pick-task").input_value() == TASK
        assert other.locator("#pick-arch").input_value() == ARCH
        expect(other.locator(f"#rule-{RULE}")).to_be_checked()
        for path, value in SMALL.items():
            assert field_value(other, path) == value
        assert field_value(other, "seed") == field_value(page, "seed")
        assert credit(other)["runId"] == run_id
        assert credit(other)["status"] == "paused"
    finally:
        other_ctx.close()

    # A link without the run id reproduces the setup in a fresh page, ready for a new run.
    bare = url.split("&run=")[0]
    fresh_ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        fresh = fresh_ctx.new_page()
        guard.watch(fresh)
        fresh.goto(bare)
        wait_for(fresh, "c.ready && c.previews > 0", 30_000)
        for path, value in SMALL.items():
            assert field_value(fresh, path) == value
        assert credit(fresh)["runId"] is None
    finally:
        fresh_ctx.close()


def lambda_has_data():  # noqa: ANN201 - a regex for expect().to_have_class
    import re

    return re.compile(r"\bhas-data\b")


def test_phone_width(browser: Browser, live_server, new_guard, shots_dir: Path) -> None:  # noqa: ANN001
    ctx = browser.new_context(viewport={"width": 375, "height": 812}, has_touch=True, is_mobile=True,
                              device_scale_factor=2, base_url=live_server.url)
    guard = new_guard()
    try:
        page = ctx.new_page()
        guard.watch(page)
        open_lab(page, SMALL_HASH)

        def no_overflow() -> None:
            width = page.evaluate("() => document.documentElement.scrollWidth")
            assert width <= 375, f"page is {width}px wide on a 375px screen"

        no_overflow()
        for sel in ("#btn-play", "#btn-step", "#btn-reset", "#btn-projector", "#btn-help", "#speed", "#live-lr"):
            el = page.locator(sel)
            expect(el).to_be_visible()
            box = el.bounding_box()
            assert box is not None and box["height"] >= 44 and box["width"] >= 44, f"{sel} is too small: {box}"
            assert 0 <= box["x"] and box["x"] + box["width"] <= 375, f"{sel} is off screen: {box}"
        play = page.locator("#btn-play").bounding_box()
        assert play["y"] + play["height"] <= 812, "Play must be on screen without scrolling"
        page.screenshot(path=str(shots_dir / "phone-375x812-ready.png"))

        page.tap("#btn-play")
        wait_for(page, "c.status === 'running' && c.lossPoints >= 3 && c.heatmapFrames >= 1", 60_000)
        no_overflow()
        # Play stays reachable after scrolling down to the charts.
        page.locator("#chart-wrec").scroll_into_view_if_needed()
        expect(page.locator("#btn-play")).to_be_in_viewport()
        page.screenshot(path=str(shots_dir / "phone-375x812.png"))
        page.tap("#btn-play")
        wait_for(page, "c.status === 'paused'")
        guard.check()
    finally:
        ctx.close()


def test_keyboard_and_projector(page: Page, guard) -> None:  # noqa: ANN001
    open_lab(page, SMALL_HASH)
    page.locator("#status-text").click()  # focus leaves any control: keys go to the page
    page.keyboard.press("Space")
    wait_for(page, "c.status === 'running' && c.lossPoints > 0", 60_000)
    page.keyboard.press("Space")
    wait_for(page, "c.status === 'paused'")
    step = credit(page)["step"]
    page.keyboard.press("s")
    wait_for(page, f"c.step === {step + 1}")

    page.keyboard.press("Shift+Slash")  # "?"
    expect(page.locator("#help")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#help")).to_be_hidden()

    # Focus is visible on keyboard navigation.
    page.locator("#btn-play").focus()
    page.keyboard.press("Tab")
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"

    html = page.locator("html")
    expect(html).not_to_have_class(lambda_projector())
    page.click("#btn-projector")
    expect(html).to_have_class(lambda_projector())
    expect(page.locator("#btn-projector")).to_have_attribute("aria-pressed", "true")
    size = page.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)")
    assert size >= 23, f"projector text should be ~1.5x larger, got {size}px"
    page.reload()
    wait_for(page, "c.ready", 30_000)
    expect(html).to_have_class(lambda_projector())
    page.locator("#status-text").click()
    page.keyboard.press("p")
    expect(html).not_to_have_class(lambda_projector())
    page.reload()
    wait_for(page, "c.ready", 30_000)
    expect(html).not_to_have_class(lambda_projector())

    page.locator("#status-text").click()
    page.keyboard.press("r")
    wait_for(page, "c.step === 0 && c.status === 'paused'")


def lambda_projector():  # noqa: ANN201
    import re

    return re.compile(r"\bprojector\b")


def test_invalid_setting_shows_the_server_message(page: Page, guard) -> None:  # noqa: ANN001
    guard.allow_console("status of 422")  # the browser logs every refused request; here that is the point
    open_lab(page, f"#task={TASK}&arch={ARCH}&rule={RULE}")

    # Through a new run: the server refuses, and says why next to the field.
    set_field(page, "arch_config.hidden", "1")
    page.click("#btn-play")
    err = page.locator('.field[data-path="arch_config.hidden"] .field-error')
    expect(err).to_be_visible()
    expect(err).to_contain_text("2")
    expect(page.locator('.field[data-path="arch_config.hidden"] input')).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#status")).to_have_attribute("data-state", "error")
    assert credit(page)["runId"] is None
    # Fixing it clears the message.
    set_field(page, "arch_config.hidden", "16")
    expect(err).to_be_hidden()

    # Through the trial preview: a task setting out of bounds is named right away.
    task_field = page.locator(".fields[data-group=task_config] .field").first
    path = task_field.get_attribute("data-path")
    low = task_field.locator("input").get_attribute("min")
    assert low is not None, "the first task setting of dnms should be a bounded number"
    set_field(page, path, str(int(float(low)) - 1))
    terr = task_field.locator(".field-error")
    expect(terr).to_be_visible()
    expect(terr).not_to_be_empty()


def test_diverged_run_says_so_and_reset_recovers(page: Page, guard) -> None:  # noqa: ANN001
    # A deliberately unstable setup: unbounded units, a strong start and a huge plain-SGD step, no clipping.
    open_lab(page, f"#task={TASK}&arch={ARCH}&rule=bptt&arch_config.hidden=16&arch_config.nonlinearity=relu"
                   "&arch_config.gain=5&arch_config.alpha=1&optim.name=sgd&optim.lr=10&optim.clip=0&batch=8&steps=100000")
    page.click("#btn-play")
    wait_for(page, "c.status === 'diverged'", 60_000)
    expect(page.locator("#status")).to_have_attribute("data-state", "diverged")
    expect(page.locator("#status-text")).to_contain_text("smaller learning rate")
    expect(page.locator("#btn-step")).to_have_attribute("aria-disabled", "true")
    page.click("#btn-reset")
    wait_for(page, "c.status === 'paused' && c.step === 0")
    expect(page.locator("#status")).to_have_attribute("data-state", "paused")
    expect(page.locator("#chart-loss")).not_to_have_class(lambda_has_data())


def test_incompatible_rule_is_disabled_with_the_reason(page: Page, guard) -> None:  # noqa: ANN001
    """The catalog decides: a rule that cannot train the chosen architecture is shown, disabled, with why."""
    import json
    import re

    def narrow_catalog(route) -> None:  # noqa: ANN001 - playwright Route
        # Same page from the same server, with one rule declared unable to train rnn (as a future rule might be).
        response = route.fetch()
        html = response.text()
        m = re.search(r'(<script type="application/json" id="page-data">)(.*?)(</script>)', html, re.S)
        assert m, "the page should inline its catalog as page-data"
        data = json.loads(m.group(2))
        data["catalog"]["compatibility"][ARCH] = [r for r in data["catalog"]["compatibility"][ARCH] if r != "rtrl"]
        for rule in data["catalog"]["rules"]:
            if rule["name"] == "rtrl":
                rule["supports"] = ["lif"]
        inline = json.dumps(data).replace("</", "<\\/")
        route.fulfill(response=response, body=html[:m.start(2)] + inline + html[m.end(2):])

    page.route(re.compile(r"^[^#?]*/(\?[^#]*)?$"), narrow_catalog)
    open_lab(page, f"#task={TASK}&arch={ARCH}&rule=rtrl")
    radio = page.locator("#rule-rtrl")
    expect(radio).to_be_disabled()
    # The link asked for rtrl, which cannot train rnn: the page picked a rule that can.
    expect(radio).not_to_be_checked()
    assert "rule=rtrl" not in page.evaluate("() => location.hash")
    row = page.locator(".rule-option", has=radio)
    assert "cannot train" in (row.get_attribute("title") or "")
    described = radio.get_attribute("aria-describedby")
    assert described and "lif" in (page.locator(f"#{described}").text_content() or "")
    page.click('label[for="rule-rtrl"]', force=True)
    expect(radio).not_to_be_checked()
