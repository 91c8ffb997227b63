"""``creditlab lesson list`` and ``creditlab lesson check [NAME]``: the lessons, and their claims as a test.

``check`` trains the runs each claim names, once per seed, in worker processes (one thread each), and prints every
claim's result on every seed with the lesson's time to effect (see ``engine.lessons.check_lessons``). Exit status:
0 when every claim holds on every seed, 1 when one fails, 2 for an unknown lesson or a bad option (the line lists
the valid names). ``check --trivial`` swaps every rule for readout-only and passes when each claim that credits
learning fails.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

lesson_cli = typer.Typer(add_completion=False, no_args_is_help=True, help="Guided lessons whose claims are tests.")


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _num(x: Any) -> str:
    if x is None or (isinstance(x, float) and x != x):
        return "—"
    return f"{x:.0f}" if abs(x) >= 1000 else f"{x:.3f}"


def _load() -> dict[str, Any]:
    from engine.lessons import load_lessons

    lessons, errors = load_lessons()
    for err in errors:
        typer.echo(f"warning: bad lesson file {err}", err=True)
    return lessons


@lesson_cli.command("list")
def list_lessons() -> None:
    """The lessons in order: name, title, presets and claims."""
    for lesson in _load().values():
        typer.echo(f"{lesson.order:>2}  {lesson.name:<18} {lesson.title}  "
                   f"({len(lesson.presets)} presets, {len(lesson.claims)} claims)")


@lesson_cli.command("check")
def check(
    name: Annotated[Optional[str], typer.Argument(help="A lesson name (see `creditlab lesson list`); all if absent.")]
    = None,
    seeds: Annotated[str, typer.Option(help="Comma-separated seeds; every claim must hold on each.")] = "0,1,2",
    jobs: Annotated[int, typer.Option(help="Runs in parallel, one thread each.")] = 1,
    out: Annotated[Optional[Path], typer.Option(help="Write the full report (every run's metrics) as JSON.")] = None,
    trivial: Annotated[bool, typer.Option(
        help="Swap every rule for readout-only: each claim that credits learning must then fail.")] = False,
) -> None:
    """Run a lesson's claimed runs over several seeds and check its claim on every seed."""
    from engine.lesson_check import check_lessons

    lessons = _load()
    if name is not None and name not in lessons:
        _fail(f"unknown lesson {name!r}; valid lessons are: {', '.join(lessons)}")
    try:
        seed_list = [int(s) for s in seeds.split(",") if s.strip()]
    except ValueError:
        _fail(f"--seeds must be comma-separated whole numbers, got {seeds!r}")
    if not seed_list or jobs < 1:
        _fail("give at least one seed and --jobs ≥ 1")
    chosen = [lessons[name]] if name else list(lessons.values())

    def progress(lesson: str, seed: int, run: str, m: dict[str, Any]) -> None:
        typer.echo(f"  {lesson} seed {seed} {run}: accuracy {_num(m['accuracy'])} ({m['seconds']:.1f} s)", err=True)

    report = check_lessons(chosen, seed_list, jobs, progress, trivial)
    for lesson_name, r in report.items():
        typer.echo(f"{lesson_name} — {r['title']}")
        for seed, s in r["seeds"].items():
            typer.echo(f"  seed {seed}: time to effect {s['seconds_two_cores']:.1f} s on two free cores "
                       f"(CPU; {s['wall_seconds']:.0f} s of wall time here)")
            for check_text, say, res in zip(r["claims"], r["says"], s["claims"]):
                rhs = "" if res["right"] is None else f" vs {_num(res['right'])}"
                note = (" — fails with readout-only, as it must" if res["pass"] else
                        " — HOLDS with readout-only: it does not test learning") if trivial else ""
                typer.echo(f"    {'✓' if res['pass'] else '✗'} {say}: {check_text} ({_num(res['left'])}{rhs}){note}")
        typer.echo(f"  {'PASS' if r['pass'] else 'FAIL'} on seeds {','.join(map(str, seed_list))}")
    if out:
        out.write_text(json.dumps(report, indent=1, default=str))
    failed = [n for n, r in report.items() if not r["pass"]]
    if trivial:
        typer.echo(f"claims that still hold with readout-only: {', '.join(failed)}" if failed
                   else "every claim that credits learning fails with readout-only, as it must")
    else:
        typer.echo(f"claims that failed: {', '.join(failed)}" if failed else "every claim holds on every seed")
    if failed:
        raise typer.Exit(1)
