"""Lessons: ``GET /api/lessons`` (the list, and the files that failed to load), ``GET /api/lessons/{name}`` (one
lesson with its presets as lab links) and the page ``GET /lessons/{name}``. Lessons are read from ``lessons/``
(``engine.lessons``) and read again when a file there changes, so a teacher's new file needs no restart; at
start-up every bad file is logged with its file name and field."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, AsyncIterator

import orjson
from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from app.routes.api import _error
from app.routes.pages import templates
from engine.lessons import DEFAULT_FOLDER, Lesson, LessonError, load_lessons

log = logging.getLogger(__name__)


def _signature(folder: Path) -> tuple[tuple[str, int, int], ...]:
    return tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(folder.glob("*.md")))


@lru_cache(maxsize=4)
def _load(folder: Path, signature: tuple[tuple[str, int, int], ...]) -> tuple[dict[str, Lesson], list[LessonError]]:
    return load_lessons(folder)


def current(folder: Path = DEFAULT_FOLDER) -> tuple[dict[str, Lesson], list[LessonError]]:
    """The lessons and the load errors, read again only when a file changed."""
    return _load(folder, _signature(folder))


@asynccontextmanager
async def report_bad_lessons(app: FastAPI) -> AsyncIterator[None]:
    """At start-up: one warning per bad lesson file, naming the file and the field."""
    for err in current()[1]:
        log.warning("bad lesson file %s (the other lessons load)", err)
    yield


router = APIRouter(tags=["lessons"], lifespan=report_bad_lessons)
NO_LESSON = _error(404, "No lesson has this name; the detail lists the valid names.")


def _find(name: str) -> Lesson:
    lessons, _ = current()
    if name not in lessons:
        raise HTTPException(404, f"unknown lesson {name!r}; valid lessons are: {', '.join(lessons)}")
    return lessons[name]


@router.get("/api/lessons")
def list_lessons() -> dict[str, Any]:
    """Every lesson in order (name, title, summary) and every file that did not load (file, field, message)."""
    lessons, errors = current()
    return {"lessons": [{"name": x.name, "title": x.title, "order": x.order, "summary": x.summary,
                         "url": f"/lessons/{x.name}"} for x in lessons.values()],
            "errors": [{"file": e.file, "field": e.field, "message": e.message} for e in errors]}


@router.get("/api/lessons/{name}", responses=NO_LESSON)
def get_lesson(name: str) -> dict[str, Any]:
    """One lesson: question, what to look at, controls, text, presets (each run with its lab hash) and claims."""
    return _find(name).to_dict()


@router.get("/lessons", response_class=HTMLResponse, include_in_schema=False)
def lessons_page(request: Request) -> Response:
    """Every lesson in order, each a link to its page (the template escapes every lesson's text)."""
    lessons, _ = current()
    return templates().TemplateResponse(request, "lessons.html", {"lessons": list(lessons.values())})


@router.get("/lessons/{name}", response_class=HTMLResponse, include_in_schema=False)
def lesson_page(request: Request, name: str) -> Response:
    """The lesson's page: the question first, then the presets as buttons that open the lab."""
    lesson = _find(name).to_dict()
    lessons, _ = current()
    nav = [{"name": x.name, "title": x.title, "order": x.order} for x in lessons.values()]
    data = orjson.dumps({"lesson": lesson, "lessons": nav}).decode().replace("</", "<\\/")
    return templates().TemplateResponse(request, "lesson.html", {"lesson": lesson, "page_data": data})
