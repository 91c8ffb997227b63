"""Issue 10, the page's load: a run's link draws its live loss chart as early as the page can.

What makes it early is checked here as behaviour, never as a time (two shared cores make any time flaky): the run's
socket is opened by the page's <head> while the document is still loading and before Plotly has run, it is the only
socket (socket.js takes it over), and the first loss curve drawn already holds the run's history; every module is
fetched by its ``modulepreload`` (none waits for its importer), and a second load fetches no static file at all.
The time from navigation to the first live chart is printed (``-s`` shows it; bench/browser_stream.py measures it
properly).
"""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

import pytest
from playwright.sync_api import Browser, expect


pytestmark = pytest.mark.browser

SETUP = "#task=dnms&arch=rnn&rule=eprop&arch_config.hidden=16&batch=8&steps=100000"

# Before any page script: each websocket's creation (URL, document state, whether Plotly has run), and the time the
# loss chart first holds data, read from what Plotly drew (el.data).
PROBE = """
(() => {
  const probe = window.__loadProbe = { sockets: [], firstLoss: null, firstLossPoints: 0 };
  const Native = window.WebSocket;
  window.WebSocket = function (url, protocols) {
    probe.sockets.push({ url: String(url), readyState: document.readyState, plotly: typeof window.Plotly,
                         at: performance.now() });
    return new Native(url, protocols);
  };
  window.WebSocket.prototype = Native.prototype;
  for (const k of ["CONNECTING", "OPEN", "CLOSING", "CLOSED"]) window.WebSocket[k] = Native[k];
  const tick = () => {
    const el = document.getElementById("plot-loss");
    const y = el && el.data && el.data[0] && el.data[0].y;
    const n = y ? Array.from(y).filter((v) => typeof v === "number" && isFinite(v)).length : 0;
    if (n > 0) {
      probe.firstLoss = performance.now();
      probe.firstLossPoints = n;
    } else requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();
"""


def api(base: str, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    data = json.dumps(body).encode() if body is not None else None
    with urllib.request.urlopen(urllib.request.Request(base + path, data=data, method=method, headers=headers),
                                timeout=30) as r:
        return json.loads(r.read())


def until(check: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_run_link_opens_its_socket_in_the_head_and_draws_the_history_first(browser: Browser, live_server,  # noqa: ANN001
                                                                              new_guard) -> None:
    base = live_server.url
    run = api(base, "POST", "/api/runs", {"task": "dnms", "arch": "rnn", "rule": "eprop", "steps": 100_000,
                                          "batch": 8, "arch_config": {"hidden": 16}})
    until(lambda: api(base, "GET", f"/api/runs/{run['id']}")["status"] == "paused", 60, "the run to be ready")
    api(base, "POST", f"/api/runs/{run['id']}/control", {"action": "play"}, run["owner_token"])
    before = until(lambda: (s := api(base, "GET", f"/api/runs/{run['id']}")["step"]) >= 20 and s, 60, "20 updates")

    ctx = browser.new_context(viewport={"width": 1440, "height": 900}, service_workers="block", base_url=base)
    try:
        page = ctx.new_page()
        guard = new_guard()
        guard.watch(page)
        sockets: list[str] = []
        page.on("websocket", lambda ws: sockets.append(ws.url))
        page.add_init_script(PROBE)
        page.goto(f"/{SETUP}&run={run['id']}")
        page.wait_for_function("() => window.__loadProbe.firstLoss !== null", timeout=60_000)
        probe = page.evaluate("() => window.__loadProbe")
        # Live: the curve keeps growing after the history.
        page.wait_for_function("n => { const y = document.getElementById('plot-loss').data[0].y;"
                               "  return Array.from(y).filter(v => typeof v === 'number' && isFinite(v)).length > n; }",
                               arg=probe["firstLossPoints"], timeout=60_000)
        print(f"\nfirst live chart {probe['firstLoss']:.0f} ms from navigation (a fresh profile; the run's socket "
              f"opened at {probe['sockets'][0]['at']:.0f} ms), {probe['firstLossPoints']} points first drawn")
        guard.check()
    finally:
        ctx.close()
    created = probe["sockets"]
    assert [s["url"].rsplit("/", 1)[-1] for s in created] == [run["id"]], created  # one socket: socket.js took it
    assert sockets == [created[0]["url"]]
    assert created[0]["readyState"] == "loading" and created[0]["plotly"] == "undefined", created[0]
    # The first curve drawn is the history the hello brought (every update made before the page was opened), not
    # live points that trickled in one by one.
    assert probe["firstLossPoints"] >= before, (probe["firstLossPoints"], before)


def test_every_module_comes_from_its_preload_and_a_warm_load_fetches_nothing(browser: Browser, live_server) -> None:  # noqa: ANN001
    ctx = browser.new_context(viewport={"width": 1440, "height": 900}, service_workers="block",
                              base_url=live_server.url)
    entries = """() => performance.getEntriesByType('resource')
        .filter(e => new URL(e.name).pathname.startsWith('/static/'))
        .map(e => ({url: e.name, by: e.initiatorType, bytes: e.transferSize}))"""
    try:
        page = ctx.new_page()
        cdp = ctx.new_cdp_session(page)  # who asked for each file: the page's <head> ("parser") or an import
        cdp.send("Network.enable")
        asked: dict[str, str] = {}
        cdp.on("Network.requestWillBeSent", lambda e: asked.setdefault(e["request"]["url"], e["initiator"]["type"]))
        page.goto("/" + SETUP)
        page.wait_for_function("() => window.__credit && window.__credit.ready", timeout=60_000)
        expect(page.locator("#plot-trial .main-svg").first).to_be_attached(timeout=30_000)
        preloads = page.evaluate("() => [...document.querySelectorAll('link[rel=modulepreload]')].map(l => l.href)")
        loaded = page.evaluate(entries)
        modules = sorted(e["url"] for e in loaded if "/static/js/" in e["url"])
        assert len(modules) > 20 and modules == sorted(preloads), (modules, preloads)
        # Each fetched because the <head> named it, none by the import that needed it (which would have waited
        # for its importer to arrive first).
        assert {u: asked.get(u) for u in modules} == {u: "parser" for u in modules}
        assert all("?v=" in e["url"] for e in loaded), loaded  # one URL per module: never a second instance

        again = ctx.new_page()
        again.goto("/" + SETUP)
        again.wait_for_function("() => window.__credit && window.__credit.ready", timeout=60_000)
        warm = again.evaluate(entries)
        assert len(warm) >= len(modules), warm  # the second load named them all too
        fetched = [e for e in warm if e["bytes"] > 0]
        assert not fetched, fetched  # versioned and immutable: from the cache, not even a 304
    finally:
        ctx.close()


def test_a_link_to_an_unknown_run_says_it_is_gone(browser: Browser, live_server, new_guard) -> None:  # noqa: ANN001
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, service_workers="block",
                              base_url=live_server.url)
    try:
        page = ctx.new_page()
        guard = new_guard()
        guard.allow_console("WebSocket")  # the refused socket may be logged by the browser
        guard.watch(page)
        page.goto("/" + SETUP + "&run=0000deadbeef")
        expect(page.locator("#status-text")).to_contain_text("no longer on the server", timeout=30_000)
        assert page.evaluate("() => window.__earlySocket") is None  # taken over, not left open
        guard.check()
    finally:
        ctx.close()
