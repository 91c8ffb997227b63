"""Pages: the lab page, static files and the vendored Plotly bundle."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient

from app.routes.pages import asset_dir, page_data, plotly_path

pytestmark = pytest.mark.timeout(60)


def test_index_page(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "<title>" in r.text and "Credit Lab" in r.text


def test_page_data_is_inline_safe_json(client: TestClient) -> None:
    text = page_data()
    assert "</" not in text
    data = orjson.loads(text)
    assert data == {"catalog": client.get("/api/catalog").json()}  # what the page reads, nothing it does not


def test_plotly_bundle_is_served_gzipped_and_cached(client: TestClient) -> None:
    r = client.get("/static/vendor/plotly.min.js", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"
    assert "max-age" in r.headers["cache-control"]
    assert r.content == plotly_path().read_bytes()  # httpx undoes the gzip
    plain = client.get("/static/vendor/plotly.min.js", headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200 and "content-encoding" not in plain.headers
    assert len(plain.content) == plotly_path().stat().st_size


def test_the_page_parses_at_most_1_5_mb_of_javascript_before_its_first_chart() -> None:
    """Issue 10: the Plotly bundle is the partial one with only the trace types the page uses, and with the page's
    own modules the scripts stay under 1.5 MB (the full bundle alone was 4.8 MB)."""
    bundle = plotly_path().read_bytes()
    assert b"plotly.js (basic" in bundle[:200]
    assert (plotly_path().parent / "plotly-basic.LICENSE").read_text().startswith("MIT License")
    ours = sum(p.stat().st_size for p in (asset_dir("static") / "js").rglob("*.js"))
    assert len(bundle) + ours <= 1_500_000, (len(bundle), ours)


def test_static_dir_is_served(client: TestClient) -> None:
    static = asset_dir("static")
    files = [p for p in static.rglob("*") if p.is_file()]
    assert files, f"no static files under {static}"
    path = files[0].relative_to(static).as_posix()
    r = client.get(f"/static/{path}")
    assert r.status_code == 200 and r.content == files[0].read_bytes()
    assert client.get("/static/does-not-exist.js").status_code == 404


@pytest.mark.parametrize("name", ["templates", "static"])
def test_served_assets_are_the_checkouts(name: str) -> None:
    """Installed from a wheel (as `make test` and Docker do) or run from a checkout, the app serves exactly the
    checkout's templates and static files: nothing is left out of the package."""
    checkout = Path(__file__).parents[2] / name
    served = asset_dir(name)
    files = sorted(p.relative_to(checkout).as_posix() for p in checkout.rglob("*") if p.is_file())
    assert files
    for rel in files:
        assert (served / rel).read_bytes() == (checkout / rel).read_bytes(), rel
