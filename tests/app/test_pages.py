"""Pages: the lab page, static files and the vendored Plotly bundle."""

from __future__ import annotations

import re
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient

from app.routes import pages
from app.routes.pages import IMMUTABLE, REVALIDATE, asset_dir, module_graph, page_assets, page_data, plotly_path

pytestmark = pytest.mark.timeout(60)


def test_index_page(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "<title>" in r.text and "Credit Lab" in r.text
    head = client.head("/")  # uptime checks and link previews ask with HEAD: the same answer without a body
    assert head.status_code == 200 and head.headers["content-type"].startswith("text/html") and not head.content


def test_page_data_is_inline_safe_json(client: TestClient) -> None:
    text = page_data()
    assert "</" not in text
    data = orjson.loads(text)
    assert data == {"catalog": client.get("/api/catalog").json()}  # what the page reads, nothing it does not


def test_plotly_bundle_is_served_gzipped_and_cached(client: TestClient) -> None:
    url = page_assets()["plotly"]
    r = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"
    assert r.headers["cache-control"] == IMMUTABLE  # the page's URL carries the bundle's version
    assert r.content == plotly_path().read_bytes()  # httpx undoes the gzip
    plain = client.get("/static/vendor/plotly.min.js", headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200 and "content-encoding" not in plain.headers
    assert len(plain.content) == plotly_path().stat().st_size
    assert plain.headers["cache-control"] == REVALIDATE  # other pages' unversioned URL: asked again, by ETag
    again = client.get("/static/vendor/plotly.min.js", headers={"If-None-Match": plain.headers["etag"]})
    assert again.status_code == 304 and not again.content


def test_the_lab_page_names_every_module_it_imports_versioned_and_preloaded(client: TestClient) -> None:
    """Issue 10: the <head> preloads the whole import graph of app.js (read from the files, so it cannot go stale),
    and an import map sends every module's plain URL to its versioned one. (The browser check that the page loads no
    module it did not preload is tests/browser/test_load.py.)"""
    html = client.get("/").text
    head = html[:html.index("</head>")]
    preloaded = re.findall(r'<link rel="modulepreload" href="([^"]+)">', head)
    imports = orjson.loads(re.search(r'<script type="importmap">(.*?)</script>', head, re.S).group(1))["imports"]
    static = asset_dir("static")
    # Every relative import of every module reached from app.js, by a reading independent of module_graph's.
    graph, todo = set(), [static / "js" / "app.js"]
    while todo:
        path = todo.pop()
        if path in graph:
            continue
        graph.add(path)
        for spec in re.findall(r"""(?:from|import)\s*\(?\s*["'](\.[^"']+)["']""", path.read_text()):
            todo.append((path.parent / spec).resolve())
    expected = {"/static/" + p.relative_to(static.resolve()).as_posix() for p in map(Path.resolve, graph)}
    assert len(expected) > 20
    assert set(imports) == expected and {u.split("?")[0] for u in preloaded} == expected
    assert sorted(preloaded) == sorted(imports.values())
    assert f'<script type="module" src="{imports["/static/js/app.js"]}">' in head
    # The map comes before anything that loads a module; Plotly loads async, in parallel with them.
    assert head.index('type="importmap"') < head.index("modulepreload") < head.index('type="module"')
    assert re.search(r'<script src="/static/vendor/plotly\.min\.js\?v=\w+" id="plotly-script" async fetchpriority="high">', head)
    for url in [*preloaded, page_assets()["css"]]:
        r = client.get(url)
        assert r.status_code == 200 and r.headers["cache-control"] == IMMUTABLE, url
        assert r.content == (static / url.split("?")[0].removeprefix("/static/")).read_bytes()


def test_unversioned_or_outdated_static_urls_revalidate(client: TestClient) -> None:
    """Other pages import the same modules by plain URL: those (and a version that is not the file's) must never be
    cached for good, or a changed file would be stale."""
    for url in ["/static/js/store.js", "/static/js/store.js?v=000000000000"]:
        r = client.get(url)
        assert r.status_code == 200 and r.headers["cache-control"] == REVALIDATE, url
        assert client.get(url, headers={"If-None-Match": r.headers["etag"]}).status_code == 304


def test_module_graph_follows_a_new_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "js" / "sub").mkdir(parents=True)
    (tmp_path / "js" / "a.js").write_text('import { b } from "./b.js";\nimport "./sub/c.js";\n')
    (tmp_path / "js" / "b.js").write_text("export const b = 1;\n")
    (tmp_path / "js" / "sub" / "c.js").write_text('export * from "../b.js";\nconst d = () => import("./d.js");\n')
    (tmp_path / "js" / "sub" / "d.js").write_text("")
    monkeypatch.setattr(pages, "asset_dir", lambda name: tmp_path)
    assert module_graph("js/a.js") == ["js/a.js", "js/b.js", "js/sub/c.js", "js/sub/d.js"]
    (tmp_path / "js" / "b.js").write_text('import "./e.js";\n')  # a changed file is read again
    (tmp_path / "js" / "e.js").write_text("")
    assert "js/e.js" in module_graph("js/a.js")


def test_the_catalog_is_inlined_without_rebuilding_it(client: TestClient) -> None:
    """The catalog's JSON schemas cost ~0.1 s: built once, not on every load of the page."""
    assert page_data() is page_data()


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
