"""Is the page light to open and smooth while a run streams? Three figures from headless Chromium on a real server.

Starts the server (its own process, like bench/viewers.py) at a free port, creates a run through the API, and opens
the page in Debian's Chromium (the same browser and flags as tests/browser/conftest.py). It prints:

1. **JavaScript parsed before the first chart**: the bytes of every script the page loaded (decoded, i.e. what V8
   parses) by the time its first chart holds data.
2. **Time to the first live chart**: from navigation start to the moment the loss chart of a running run (opened by
   its link) holds a data point, in a fresh browser profile (nothing cached) with the server warm (every file served
   once before). The median of ``--loads`` loads, and the time to the first chart of any kind (the example trial);
   then where that time went: the page's HTML received, the run's socket created, its first message (the hello)
   received, Plotly run; and, from one more load traced, the page's main thread from navigation to that chart: busy
   (wall) and CPU time. On shared cores the wall time mostly waits for a core: the CPU time is the load-independent
   figure (what an idle machine would spend on the main thread; the network then overlaps it).
3. **Smoothness while streaming**: animation frames per second with the run paused (idle) and then while it plays at
   full speed for ``--seconds``, their ratio, and the long tasks (> 50 ms, from a PerformanceObserver) during the
   stream: how many, the longest, and the share of the main thread they took.

    python bench/browser_stream.py [--seconds 60] [--idle 10] [--loads 3] [--rule eprop] [--hidden 64]

Targets (issue 10): scripts <= 1.5 MB, first live chart <= 1.0 s, streaming/idle frame rate >= 0.85, longest task
<= 200 ms. Two shared cores: the server trains on one while the browser draws, so read the figures as a pair
measured in one session, before and after a change.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from viewers import serving, wait_until  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run",
         "--disable-sync", "--disable-quic", "--disable-dev-shm-usage"]

# Runs before any page script: notes when the first chart (any) and the loss chart first hold data, and keeps a
# long-task log and a frame counter that the measurement windows read.
PROBE = """
(() => {
  const probe = window.__probe = { firstAny: null, firstLoss: null, frames: 0, long: [], socket: null, hello: null,
                                   plotly: null };
  const hasData = (el) => Boolean(el && el.data && el.data.some(t => t.y && t.y.length > 0));
  // Where the time goes: when the run's socket is created and its first message (the hello) arrives, and the first
  // frame that finds Plotly run.
  const Native = window.WebSocket;
  window.WebSocket = function (url, protocols) {
    const ws = new Native(url, protocols);
    if (probe.socket === null) {
      probe.socket = performance.now();
      ws.addEventListener('message', () => { if (probe.hello === null) probe.hello = performance.now(); });
    }
    return ws;
  };
  window.WebSocket.prototype = Native.prototype;
  for (const k of ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED']) window.WebSocket[k] = Native[k];
  const tick = () => {
    probe.frames += 1;
    if (probe.plotly === null && window.Plotly) probe.plotly = performance.now();
    if (probe.firstAny === null && [...document.querySelectorAll('.js-plotly-plot')].some(hasData))
      probe.firstAny = performance.now();
    if (probe.firstLoss === null && hasData(document.getElementById('plot-loss')))
      probe.firstLoss = performance.now();
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) probe.long.push([e.startTime, e.duration]);
    }).observe({ type: 'longtask', buffered: true });
  } catch (err) { probe.noLongTasks = String(err); }
})();
"""


def http(base: str, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
    import json

    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def rates(page: Any, seconds: float) -> dict[str, float]:
    """Frames per second and long tasks over a window of ``seconds`` on an open page."""
    t0, f0 = page.evaluate("() => [performance.now(), window.__probe.frames]")
    page.wait_for_timeout(seconds * 1000)
    t1, f1, long = page.evaluate("() => [performance.now(), window.__probe.frames, window.__probe.long]")
    inside = [d for s, d in long if t0 <= s < t1]
    wall = (t1 - t0) / 1000
    return {"fps": (f1 - f0) / wall, "long_n": len(inside), "long_max": max(inside, default=0.0),
            "long_share": sum(inside) / (t1 - t0)}


def load_once(browser: Any, url: str, wait_loss: bool) -> dict[str, Any]:
    """One fresh-profile load of ``url``: script bytes and times to the first charts (ms from navigation)."""
    ctx = browser.new_context(viewport={"width": 1440, "height": 900}, service_workers="block")
    try:
        page = ctx.new_page()
        page.add_init_script(PROBE)
        scripts: dict[str, int] = {}

        def on_response(resp: Any) -> None:
            if resp.request.resource_type == "script":
                try:
                    scripts[resp.url] = len(resp.body())
                except Exception:  # noqa: BLE001 - a body may be gone after navigation
                    pass

        page.on("response", on_response)
        page.goto(url, timeout=120_000)  # a loaded machine can take long over the full bundle
        page.wait_for_function("() => window.__probe.firstAny !== null", timeout=60_000)
        if wait_loss:
            page.wait_for_function("() => window.__probe.firstLoss !== null", timeout=60_000)
        probe = page.evaluate("() => ({firstAny: __probe.firstAny, firstLoss: __probe.firstLoss, "
                              "socket: __probe.socket, hello: __probe.hello, plotly: __probe.plotly, "
                              "html: performance.getEntriesByType('navigation')[0].responseEnd})")
        return {**probe, "script_bytes": sum(scripts.values()), "scripts": len(scripts),
                "largest": max(scripts.items(), key=lambda kv: kv[1]) if scripts else ("", 0)}
    finally:
        ctx.close()


def main_thread_cpu(browser: Any, url: str) -> dict[str, float]:
    """One more fresh-profile load, traced: the page's main thread from navigation to the first live chart, as
    wall time busy and as CPU time. On shared cores the wall time mostly waits for a core; the CPU time is what a
    quiet machine would spend, whatever the load."""
    import json

    ctx = browser.new_context(viewport={"width": 1440, "height": 900}, service_workers="block")
    try:
        page = ctx.new_page()
        page.add_init_script(PROBE)
        browser.start_tracing(page=page, categories=["devtools.timeline", "disabled-by-default-devtools.timeline",
                                                         "blink.user_timing"])
        page.goto(url, timeout=120_000)
        page.wait_for_function("() => window.__probe.firstLoss !== null", timeout=60_000)
        first = page.evaluate("() => __probe.firstLoss")
        trace = json.loads(browser.stop_tracing())
    finally:
        ctx.close()
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    nav = next(e for e in events if e.get("name") == "navigationStart"
               and str(e.get("args", {}).get("data", {}).get("documentLoaderURL", "")).startswith("http"))
    t0, end = nav["ts"], nav["ts"] + first * 1000
    tasks = [e for e in events if (e.get("pid"), e.get("tid")) == (nav["pid"], nav["tid"]) and e.get("ph") == "X"
             and e.get("name") in ("RunTask", "ThreadControllerImpl::RunTask") and t0 <= e["ts"] <= end]
    return {"first": first, "busy": sum(e["dur"] for e in tasks) / 1000,
            "cpu": sum(e.get("tdur", 0) for e in tasks) / 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0, help="streaming window (s)")
    parser.add_argument("--idle", type=float, default=10.0, help="idle window before it (s)")
    parser.add_argument("--loads", type=int, default=3, help="fresh-profile loads for the first-chart time")
    parser.add_argument("--task", default="dnms")
    parser.add_argument("--rule", default="eprop")
    parser.add_argument("--hidden", type=int, default=64)
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    spec = {"task": args.task, "arch": "rnn", "rule": args.rule, "steps": 10_000_000,
            "arch_config": {"hidden": args.hidden}}
    setup = f"#task={args.task}&arch=rnn&rule={args.rule}&arch_config.hidden={args.hidden}&steps=10000000"
    with serving() as base, sync_playwright() as pw:
        run = http(base, "POST", "/api/runs", spec)
        auth = {"Authorization": f"Bearer {run['owner_token']}"}
        control = lambda action: http(base, "POST", f"/api/runs/{run['id']}/control",  # noqa: E731
                                      {"action": action}, auth)
        wait_until(lambda: http(base, "GET", f"/api/runs/{run['id']}")["status"] == "paused", 60, "the run")
        watch = f"{base}/{setup}&run={run['id']}"
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            control("play")
            load_once(browser, watch, wait_loss=True)  # warms the server: every file served once
            loads = [load_once(browser, watch, wait_loss=True) for _ in range(args.loads)]
            traced = main_thread_cpu(browser, watch)
            control("pause")

            ctx = browser.new_context(viewport={"width": 1440, "height": 900}, service_workers="block")
            page = ctx.new_page()
            page.add_init_script(PROBE)
            page.goto(watch, timeout=120_000)
            page.wait_for_function("() => window.__probe.firstLoss !== null", timeout=60_000)
            page.wait_for_timeout(2000)  # the page settles: last frames drawn, no more messages
            idle = rates(page, args.idle)
            before = http(base, "GET", f"/api/runs/{run['id']}")["step"]
            control("play")
            t = time.monotonic()
            stream = rates(page, args.seconds)
            updates = (http(base, "GET", f"/api/runs/{run['id']}")["step"] - before) / (time.monotonic() - t)
            drawn = page.evaluate("() => ({...window.__credit})")
            control("stop")
            ctx.close()
        finally:
            browser.close()

    first = loads[0]
    print(f"run: task={args.task} rule={args.rule} hidden={args.hidden}; {updates:.1f} updates/s while streaming")
    print(f"scripts before the first chart: {first['script_bytes'] / 1e6:.2f} MB in {first['scripts']} files "
          f"(largest {first['largest'][1] / 1e6:.2f} MB: {first['largest'][0].rsplit('/', 1)[-1]})")
    print(f"first chart (example trial), ms from navigation: "
          f"{statistics.median(x['firstAny'] for x in loads):.0f} (loads: {[round(x['firstAny']) for x in loads]})")
    print(f"first live chart (loss of a running run), ms from navigation: "
          f"{statistics.median(x['firstLoss'] for x in loads):.0f} (loads: {[round(x['firstLoss']) for x in loads]})")
    med = lambda key: statistics.median(x[key] for x in loads)  # noqa: E731
    print(f"  where it goes (medians, ms from navigation): page received {med('html'):.0f}, run's socket created "
          f"{med('socket'):.0f}, its hello arrived {med('hello'):.0f}, Plotly run by {med('plotly'):.0f} "
          "(first frame that finds it)")
    print(f"  main thread before the first live chart (one more load, traced: {traced['first']:.0f} ms): busy "
          f"{traced['busy']:.0f} ms, of which CPU {traced['cpu']:.0f} ms (the rest waited for a core)")
    print(f"idle: {idle['fps']:.1f} frames/s over {args.idle:.0f} s; long tasks {idle['long_n']}")
    print(f"streaming: {stream['fps']:.1f} frames/s over {args.seconds:.0f} s; frame-rate ratio "
          f"{stream['fps'] / idle['fps']:.2f}")
    print(f"long tasks while streaming: {stream['long_n']} ({stream['long_n'] / args.seconds:.2f}/s), longest "
          f"{stream['long_max']:.0f} ms, {100 * stream['long_share']:.0f} % of the main thread")
    print(f"page counters: curve frames {drawn.get('curveFrames')}, snapshots drawn {drawn.get('snapshotsDrawn')} "
          f"of {drawn.get('snapshotsReceived')}, slowest draw {drawn.get('drawMsMax')} ms")


if __name__ == "__main__":
    main()
