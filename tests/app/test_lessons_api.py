"""The lessons over HTTP: the list (with the files that failed to load), one lesson with its presets as lab links,
the page, and 404 naming the valid lessons."""

from __future__ import annotations




def test_the_list_names_every_lesson_in_order_and_no_errors(client):
    data = client.get("/api/lessons").json()
    assert data["errors"] == []
    names = [x["name"] for x in data["lessons"]]
    assert len(names) >= 7 and names[0] == "temporal-credit"
    assert all(x["url"] == f"/lessons/{x['name']}" for x in data["lessons"])


def test_a_lesson_carries_its_question_presets_as_lab_links_and_claims(client):
    lesson = client.get("/api/lessons/local-limits").json()
    assert lesson["question"].endswith("?") and lesson["look_at"]
    sweep = lesson["presets"][0]
    assert sweep["kind"] == "sweep" and sweep["spec"]["setting"] == "task.delay"
    run = next(r for r in sweep["runs"] if r["name"] == "delay/eprop@20")
    assert run["hash"].startswith("#task=dnms&rule=eprop&task_config.delay=20&arch_config.alpha=0.5")
    assert any("eprop@20" in c["check"] for c in lesson["claims"])


def test_the_page_renders_and_an_unknown_lesson_is_404_with_the_valid_names(client):
    page = client.get("/lessons/eprop-traces")
    assert page.status_code == 200 and 'href="/#task=dnms' in page.text and "Before you press Play" in page.text
    for url in ("/api/lessons/nope", "/lessons/nope"):
        r = client.get(url)
        assert r.status_code == 404 and "temporal-credit" in r.json()["detail"]


def test_the_lessons_index_links_every_lesson_and_the_lab_links_to_it(client) -> None:  # noqa: ANN001
    page = client.get("/lessons")
    assert page.status_code == 200
    names = [x["name"] for x in client.get("/api/lessons").json()["lessons"]]
    assert len(names) >= 7 and all(f"href='/lessons/{n}'" in page.text for n in names)
    lab = client.get("/").text
    assert 'href="/lessons"' in lab and 'href="/runs"' in lab and 'href="/compare"' in lab
