"""Long histories: thinning keeps first, last and minima; memory is capped; hello is small; the rest is paged."""

from __future__ import annotations

import math
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.runs.history import cap, page, thin
from app.runs.ratelimit import TokenBucket
from apputil import make_settings, ready_run, watch

pytestmark = pytest.mark.timeout(120)


def records(n: int) -> list[dict[str, Any]]:
    """A noisy decreasing loss with an alignment every 10 updates."""
    return [{"step": i, "loss": 1 / i + 0.1 * math.sin(i * 1.7) ** 2, "accuracy": 0.5, "ms": 1.0,
             "alignment": {"all": 0.5} if i % 10 == 0 else None} for i in range(1, n + 1)]


def test_thin_keeps_first_last_and_bucket_minima() -> None:
    full = records(20_000)
    shown = thin(full, 2000)
    assert len(shown) <= 2000 and shown[0] is full[0] and shown[-1] is full[-1]
    assert [r["step"] for r in shown] == sorted({r["step"] for r in shown})
    assert min(r["loss"] for r in shown) == min(r["loss"] for r in full)
    buckets = (2000 - 2) // 2
    for b in range(buckets):  # every bucket's lowest loss survives
        lo, hi = 1 + b * (20_000 - 2) // buckets, 1 + (b + 1) * (20_000 - 2) // buckets
        assert min(full[lo:hi], key=lambda r: r["loss"]) in shown
    assert sum(1 for r in shown if r["alignment"]) >= buckets * 0.9  # the alignment chart keeps its shape
    assert thin(full[:50], 2000) == full[:50]


def test_cap_bounds_memory_and_keeps_recent_updates_complete() -> None:
    kept: list[dict[str, Any]] = []
    for chunk in range(100):
        kept.extend(records(100 * (chunk + 1))[-100:])
        cap(kept, 2000)
        assert len(kept) <= 2000
    assert [r["step"] for r in kept[-1000:]] == list(range(9001, 10_001))
    assert kept[0]["step"] == 1


def test_page_returns_a_step_range_a_page_at_a_time() -> None:
    full = records(1000)
    got, nxt = page(full, 100, 400, 250)
    assert [r["step"] for r in got] == list(range(100, 350)) and nxt == 350
    got, nxt = page(full, nxt, 400, 250)
    assert [r["step"] for r in got] == list(range(350, 400)) and nxt is None


def test_token_bucket_refills_at_its_rate() -> None:
    now = [0.0]
    bucket = TokenBucket(10, clock=lambda: now[0])
    assert sum(bucket.take() for _ in range(30)) == 10
    now[0] = 0.5
    assert sum(bucket.take() for _ in range(30)) == 5


def test_hello_is_thinned_and_the_rest_is_paged(client: TestClient) -> None:
    run_id = ready_run(client)["id"]
    run = client.app.state.manager.runs[run_id]  # type: ignore[attr-defined]
    run.history.extend(records(20_000))  # as if it had trained 20 000 updates
    with watch(client, run_id) as reader:
        hello = reader.until(lambda m: m["type"] == "hello")
    assert len(hello["history"]) <= 2000 and hello["history_complete"] is False
    assert hello["history_total"] == 20_000
    assert hello["history"][0]["step"] == 1 and hello["history"][-1]["step"] == 20_000
    steps: list[int] = []
    start: int | None = 0
    while start is not None:
        body = client.get(f"/api/runs/{run_id}/history", params={"start": start, "limit": 5000}).json()
        steps += [r["step"] for r in body["records"]]
        start = body["next"]
    assert steps == list(range(1, 20_001)) and body["total"] == 20_000
    detail = client.get(f"/api/runs/{run_id}").json()  # the run's page is thinned the same way
    assert len(detail["history"]) <= 2000 and detail["history_complete"] is False
    assert detail["history_total"] == 20_000 and detail["history"][-1]["step"] == 20_000
    assert client.get("/api/runs/nope/history").status_code == 404


def test_a_finished_runs_summary_counts_updates_not_kept_records(tmp_path: Any) -> None:
    """Past ``history_cap`` the older records are thinned; ``final`` still counts every update, and its late means
    cover the last 10 % of the updates (kept complete), not of the records."""
    with TestClient(create_app(make_settings(tmp_path, history_cap=1000))) as client:
        run = client.app.state.manager.runs[ready_run(client)["id"]]  # type: ignore[attr-defined]
        run.history[:] = records(5000)
        cap(run.history, 1000)
        assert len(run.history) < 5000
        run.status, run.step = "stopped", 5000
        final = run.final()
        assert final["steps"] == 5000 and final["window"] == 500
        assert final["loss"] == pytest.approx(sum(r["loss"] for r in records(5000)[-500:]) / 500)
