"""Every page around the lab extends one base template (templates/base_page.html): the same skip link (to an
element the page has), the same header links between the pages, one <head>; the lessons index is rendered from a
template, so a lesson's text is shown as text, never run as markup."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.routes import lessons as lessons_route
from engine.lessons import DEFAULT_FOLDER, load_lessons

PAGES = ["/compare", "/compare/abc123", "/sweep/abc123", "/lessons", "/lessons/eprop-traces", "/runs",
         "/replay/abc123"]
HEADER_LINKS = ['href="/">Lab</a>', 'href="/compare">Compare</a>', 'href="/lessons">Lessons</a>',
                'href="/runs">Saved runs</a>']
#: Pages that draw load the vendored Plotly bundle; the others do not pay for it.
DRAWS = {"/compare", "/compare/abc123", "/sweep/abc123", "/replay/abc123"}


@pytest.mark.parametrize("url", PAGES)
def test_every_page_extends_the_base(client: TestClient, url: str) -> None:
    r = client.get(url)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    text = r.text
    assert text.count("<head>") == 1 and text.count('<link rel="stylesheet" href="/static/css/app.css">') == 1
    skip = re.search(r'<a class="skip-link" href="#([\w-]+)">', text)
    assert skip and f'id="{skip.group(1)}"' in text  # the skip link lands on something
    header = text[text.index('<header class="site-top"'):text.index("</header>")]
    assert all(link in header for link in HEADER_LINKS)
    assert ('src="/static/vendor/plotly.min.js"' in text) == (url in DRAWS)


def test_a_lesson_title_with_markup_is_shown_as_text_on_the_index(client: TestClient, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    source = (DEFAULT_FOLDER / "eprop-traces.md").read_text()
    shutil.copy(DEFAULT_FOLDER / "fixed-circuit.md", tmp_path / "fixed-circuit.md")
    bad = re.sub(r'^title = ".*"$', 'title = "<script>alert(1)</script> & more"', source, count=1, flags=re.M)
    bad = re.sub(r'^summary = ".*"$', 'summary = "<img src=x onerror=alert(2)>"', bad, count=1, flags=re.M)
    (tmp_path / "eprop-traces.md").write_text(bad)
    found, errors = load_lessons(tmp_path)
    assert not errors and found["eprop-traces"].title.startswith("<script>")
    monkeypatch.setattr(lessons_route, "current", lambda: (found, errors))
    text = client.get("/lessons").text
    assert "<script>alert(1)" not in text and "<img src=x" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in text and "&lt;img src=x onerror=alert(2)&gt;" in text
    assert "href='/lessons/eprop-traces'" in text and "href='/lessons/fixed-circuit'" in text
