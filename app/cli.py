"""The ``creditlab`` command: train from the shell, print the catalog, serve the lab, benchmark the rules.

Every setting of a run is reachable with ``--set PATH=VALUE``: ``task.delay=40`` (task settings), ``arch.hidden=64``,
``rule.feedback=random``, ``optim.lr=0.01``, or a run-level one such as ``batch=64``. Values are read as JSON
when they parse (numbers, true/false), else as text. Bad input prints one clear line and exits with status 2.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

cli = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Credit Lab: watch recurrent networks learn, and see how credit reaches the synapses.")

_SECTIONS = {"task": "task_config", "arch": "arch_config", "rule": "rule_config", "optim": "optim"}


def parse_sets(pairs: list[str]) -> dict[str, Any]:
    """``["task.delay=40", "batch=64"]`` → ``{"task_config": {"delay": 40}, "batch": 64}``."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{pair!r} is not PATH=VALUE (e.g. task.delay=40)", param_hint="--set")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        head, dot, rest = key.partition(".")
        if dot:
            if head not in _SECTIONS:
                raise typer.BadParameter(f"unknown section {head!r} in {key!r}; valid sections are: "
                                         f"{', '.join(_SECTIONS)}", param_hint="--set")
            out.setdefault(_SECTIONS[head], {})[rest] = value
        else:
            out[key] = value
    return out


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _fmt(x: float | None, spec: str = ".3f") -> str:
    return "—" if x is None or x != x else format(x, spec)


@cli.command()
def train(
    task: Annotated[str, typer.Option(help="Task name (see `creditlab catalog`).")] = "dnms",
    arch: Annotated[str, typer.Option(help="Architecture name.")] = "rnn",
    rule: Annotated[str, typer.Option(help="Credit rule name.")] = "bptt",
    steps: Annotated[Optional[int], typer.Option(help="Number of updates (default: the run default, 500).")] = None,
    seed: Annotated[int, typer.Option(help="Seed for trials, weights and the rule.")] = 0,
    batch: Annotated[Optional[int], typer.Option(help="Trials per update.")] = None,
    lr: Annotated[Optional[float], typer.Option(help="Learning rate.")] = None,
    alignment_every: Annotated[Optional[int], typer.Option(
        help="Every K updates, report the cosine of the rule's gradient with BPTT's over the recurrent parameters (and over all) (default 10, as on the page; 0: never).")] = None,
    set_: Annotated[list[str], typer.Option("--set", help="Any setting, e.g. task.delay=40 or optim.lr=0.01.")] = [],
    out: Annotated[Optional[Path], typer.Option(help="Write config, history and final result as JSON here.")] = None,
    quiet: Annotated[bool, typer.Option(help="No progress output.")] = False,
    threads: Annotated[int, typer.Option(help="torch threads (1, as in the web worker, is fastest for small nets).")] = 1,
) -> None:
    """Train one run and print its progress and summary."""
    import torch

    torch.set_num_threads(max(1, threads))
    from engine.config import SettingError
    from engine.registry import UnknownName
    from engine.spec import Incompatible, parse_spec, resolve
    from engine.training import Trainer

    data: dict[str, Any] = {"task": task, "arch": arch, "rule": rule, "seed": seed}
    for key, value in (("batch", batch), ("steps", steps), ("alignment_every", alignment_every)):
        if value is not None:  # else the RunSpec default: one set of defaults for the CLI and the page
            data[key] = value
    extra = parse_sets(set_)
    if lr is not None:
        extra.setdefault("optim", {})["lr"] = lr
    for k, v in extra.items():
        data[k] = {**data[k], **v} if isinstance(v, dict) and isinstance(data.get(k), dict) else v
    try:
        trainer = Trainer(resolve(parse_spec(data)))
    except (UnknownName, Incompatible, SettingError) as err:
        _fail(str(err))
    except ValueError as err:  # e.g. a rule refusing a size it cannot afford
        _fail(str(err))
    if not quiet:
        from engine.estimate import estimate

        guess = estimate(trainer.spec)
        total = trainer.spec.steps
        if guess["slow"]:
            typer.echo(f"note: this configuration is slow — about {guess['ms_per_update'] / 1000:.0f} s per update "
                       f"(estimated), {guess['ms_per_update'] * total / 60000:.0f} min for {total} updates", err=True)
    report = _Progress(trainer.spec.steps, quiet)
    try:
        for record in trainer.run():
            report.update(record)
    except KeyboardInterrupt:
        trainer.stop()
    except ValueError as err:
        _fail(str(err))
    report.close()
    summary = trainer.summary()
    for line in summary_lines(summary["final"], rule):
        typer.echo(line)
    if out is not None:
        import orjson

        out.write_bytes(orjson.dumps(summary, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY))
        typer.echo(f"wrote {out}")
    if trainer.status == "diverged":
        raise typer.Exit(1)


NO_CREDIT = "the rule assigns no credit to the network (only the readout learns)"


def summary_lines(f: dict[str, Any], rule: str) -> list[str]:
    """The CLI summary of a run's ``final`` record: late means first, then alignment, then cost."""
    acc = None if f["accuracy"] is None else 100 * f["accuracy"]
    last_acc = None if f["last_accuracy"] is None else 100 * f["last_accuracy"]
    lines = [f"{f['status']} after {f['steps']} updates: loss {_fmt(f['loss'])}, accuracy {_fmt(acc, '.0f')} % "
             f"(mean of last {f['window']} updates; last batch {_fmt(f['last_loss'])}, {_fmt(last_acc, '.0f')} %)"]
    al = f.get("alignment") or {}
    if al.get("all") is not None:
        rec = _fmt(al.get("recurrent"), ".2f")
        note = f" — {NO_CREDIT}" if al.get("recurrent") is None else ""
        lines.append(f"alignment with BPTT (mean of last {f['window']} updates): recurrent {rec}, "
                     f"all {_fmt(al['all'], '.2f')}{note}")
    buffer = f", + {_bytes(f['buffer_bytes'])} working buffer" if f["buffer_bytes"] else ""
    growth = (f"{_bytes(f['fixed_bytes'])} fixed + {_bytes(f['per_step_bytes'])} per step"
              if f["per_step_bytes"] else "fixed, whatever the trial length")
    lines.append(f"{f['ms_per_update']:.1f} ms/update; {rule} keeps {_bytes(f['state_bytes'])} at T = "
                 f"{f['trial_steps']} ({growth}){buffer}; BPTT would keep {_bytes(f['bptt_state_bytes'])} "
                 f"({_bytes(f['bptt_per_step_bytes'])} per step)")
    return lines


class _Progress:
    """A one-line progress report on stderr: rewritten in place on a terminal, a line every 10 % otherwise.
    Alignment leads with the recurrent cosine ("—" for a rule that assigns no credit to the network)."""

    def __init__(self, total: int, quiet: bool):
        self.total, self.quiet = total, quiet
        self.tty = sys.stderr.isatty()
        self.start = time.perf_counter()
        self.alignment: dict[str, Any] | None = None
        self.last_print = 0.0

    def update(self, r: Any) -> None:
        if self.quiet:
            return
        if r.alignment is not None:
            self.alignment = r.alignment
        now = time.perf_counter()
        every = max(1, self.total // 10)
        if self.tty and now - self.last_print < 0.1 and r.step < self.total:
            return
        if not self.tty and r.step % every and r.step < self.total:
            return
        self.last_print = now
        sys.stderr.write(("\r" + self.line(r, now)) if self.tty else (self.line(r, now) + "\n"))
        sys.stderr.flush()

    def line(self, r: Any, now: float) -> str:
        rate = r.step / max(now - self.start, 1e-9)
        done = int(20 * r.step / self.total)
        line = (f"[{'#' * done}{'.' * (20 - done)}] {r.step}/{self.total} {rate:.1f} steps/s "
                f"loss {_fmt(r.loss)} acc {_fmt(100 * r.accuracy, '.0f')} %")
        if self.alignment is not None:
            a = self.alignment
            line += f" align recurrent {_fmt(a.get('recurrent'), '.2f')} all {_fmt(a.get('all'), '.2f')}"
            if a.get("recurrent") is None:
                line += " (no credit to the network)"
        return line

    def close(self) -> None:
        if self.tty and not self.quiet:
            sys.stderr.write("\n")


def _bytes(n: float) -> str:
    """Binary units throughout (1 KiB = 1024 B), the unit the page uses too."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


@cli.command()
def catalog(as_json: Annotated[bool, typer.Option("--json", help="Print the catalog as JSON.")] = False) -> None:
    """List tasks, architectures and rules with their settings, and which rules train which architecture."""
    from engine.catalog import catalog as build

    cat = build()
    if as_json:
        typer.echo(json.dumps(cat, indent=2, default=str))
        return
    for kind, title in (("tasks", "Tasks"), ("archs", "Architectures"), ("rules", "Credit rules")):
        typer.echo(f"\n{title}")
        for e in cat[kind]:
            typer.echo(f"  {e['name']:<22} {e['description']}")
            for s in e["settings"]:
                bounds = _bounds(s)
                typer.echo(f"      {s['name']:<16} = {s['default']!s:<10} {bounds}{s['help']}")
    typer.echo("\nCompatibility")
    for a, rules in cat["compatibility"].items():
        typer.echo(f"  {a}: {', '.join(rules)}")


def _bounds(s: dict[str, Any]) -> str:
    if "choices" in s:
        return "{" + "|".join(map(str, s["choices"])) + "} "
    lo = s.get("min", s.get("gt"))
    hi = s.get("max", s.get("lt"))
    if lo is None and hi is None:
        return ""
    return f"[{'' if lo is None else lo}..{'' if hi is None else hi}] "


@cli.command()
def serve(
    host: Annotated[Optional[str], typer.Option(help="Address to listen on (default 127.0.0.1).")] = None,
    port: Annotated[Optional[int], typer.Option(help="Port (default 8000).")] = None,
    data_dir: Annotated[Optional[Path], typer.Option(help="Where the SQLite database lives.")] = None,
) -> None:
    """Start the web lab."""
    from app.main import run_server
    from app.settings import Settings

    overrides = {k: v for k, v in {"host": host, "port": port, "data_dir": data_dir}.items() if v is not None}
    run_server(Settings(**overrides))


@cli.command()
def bench(
    quick: Annotated[bool, typer.Option(help="Small sizes only (about a minute).")] = False,
    threads: Annotated[int, typer.Option(help="torch threads; 1 is what each web run's worker uses.")] = 1,
    reference: Annotated[bool, typer.Option(help="Also time engine BPTT against a plain PyTorch loop.")] = True,
) -> None:
    """Time every rule side by side at reference sizes; print ms/update and state bytes as ratios to BPTT, then
    engine BPTT against a plain hand-written PyTorch loop (same weights, trials and Adam): engine/plain ratios."""
    from engine.bench import format_reference, format_table, reference_rows, run_bench

    kwargs: dict[str, Any] = {"threads": threads}
    ref: dict[str, Any] = {"threads": threads}
    if quick:
        kwargs.update(sizes=(32, 64), steps=(50, 100))
        ref.update(steps=(50, 100), repeats=5)
    typer.echo(format_table(run_bench(**kwargs)))
    if reference:
        typer.echo("")
        typer.echo(format_reference(reference_rows(**ref)))


@cli.command()
def matrix(
    full: Annotated[bool, typer.Option(help="Full size: every rule, seeds 0–4 (CI size: the claimed rules, 2 seeds).")]
    = False,
    tasks: Annotated[Optional[str], typer.Option(help="Comma-separated tasks (default: all).")] = None,
    seeds: Annotated[Optional[int], typer.Option(help="Number of seeds 0..N−1 (default: the size's).")] = None,
    steps: Annotated[Optional[int], typer.Option(help="Updates per run (default: the run default).")] = None,
    jobs: Annotated[int, typer.Option(help="Runs in parallel, one thread each.")] = 1,
    out: Annotated[Path, typer.Option(help="Folder for matrix.md and matrix.json.")] = Path("docs"),
) -> None:
    """Run every task × rule at its defaults over several seeds; write matrix.md/.json and check each task's claim."""
    from engine.matrix import run_matrix, write

    command = "creditlab matrix" + (" --full" if full else "")

    def progress(run: dict[str, Any]) -> None:
        typer.echo(f"{run['task']:<22} {run['rule']:<8} seed {run['seed']}: accuracy {_fmt(run['accuracy'])} "
                   f"loss {_fmt(run['loss'])} ({run['ms_per_update']:.1f} ms/update)", err=True)

    result = run_matrix("full" if full else "ci", tasks.split(",") if tasks else None,
                        tuple(range(seeds)) if seeds else None, steps, jobs, progress)
    md, js = write(result, out, command)
    failed = [f"{t}: {c['check']}" for t, cl in result["claims"].items() for c in cl["checks"] if not c["pass"]]
    typer.echo(f"wrote {md} and {js}; " + (f"claims that failed: {'; '.join(failed)}" if failed
                                             else "every claimed contrast holds on every seed"))
    if failed:
        raise typer.Exit(1)


def _base_spec(task: str, arch: str, seed: int, steps: Optional[int], batch: Optional[int],
               sets: list[str]) -> dict[str, Any]:
    """The base run spec of a comparison or sweep from the shared options and ``--set``."""
    base: dict[str, Any] = {"task": task, "arch": arch, "seed": seed}
    base.update({k: v for k, v in (("steps", steps), ("batch", batch)) if v is not None})
    for k, v in parse_sets(sets).items():
        base[k] = {**base[k], **v} if isinstance(v, dict) and isinstance(base.get(k), dict) else v
    return base


def _names(text: str, option: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise typer.BadParameter("give a comma-separated list, e.g. bptt,eprop,readout", param_hint=option)
    return names


def _check_names(kind: str, names: list[str]) -> None:
    """Exit 2 with the valid choices for an unknown rule or task name (before anything trains)."""
    from engine.registry import UnknownName
    from engine.rules import RULES
    from engine.tasks import TASKS

    registry = RULES if kind == "rule" else TASKS
    for name in names:
        try:
            registry.get(name)
        except UnknownName as err:
            _fail(str(err))


@cli.command()
def compare(
    task: Annotated[str, typer.Option(help="Task name, shared by every member.")] = "dnms",
    rules: Annotated[str, typer.Option(help="Comma-separated rules, one member each (2 to 6).")] = "bptt,eprop,readout",
    arch: Annotated[str, typer.Option(help="Architecture of every member.")] = "rnn",
    seed: Annotated[int, typer.Option(help="The seed every member shares: same trials, same initial weights.")] = 0,
    steps: Annotated[Optional[int], typer.Option(help="Updates per member (default: the run default).")] = None,
    batch: Annotated[Optional[int], typer.Option(help="Trials per update.")] = None,
    set_: Annotated[list[str], typer.Option("--set", help="A setting of every member, e.g. task.delay=40.")] = [],
    target: Annotated[float, typer.Option(help="Accuracy whose reaching the table times (mean of 10 updates).")] = 0.9,
    lockstep: Annotated[bool, typer.Option(help="Update k of every member before k+1 of any (else one by one).")]
    = True,
    out: Annotated[Optional[Path], typer.Option(help="Write members (histories, summaries) and the table as JSON.")]
    = None,
    quiet: Annotated[bool, typer.Option(help="No progress output.")] = False,
) -> None:
    """Train several rules side by side on one task and seed (same trials, same initial weights); print a table
    that names a winner."""
    import torch

    torch.set_num_threads(1)
    from engine.compare import ComparisonSpec, member_specs
    from engine.comparing import compare as run_compare
    from engine.config import SettingError
    from engine.registry import UnknownName
    from engine.spec import Incompatible, resolve

    names = _names(rules, "--rules")
    _check_names("task", [task])
    _check_names("rule", names)
    if not 2 <= len(names) <= 6:
        _fail(f"--rules: a comparison has 2 to 6 members, got {len(names)}")
    try:
        cmp = ComparisonSpec(base=_base_spec(task, arch, seed, steps, batch, set_),
                             members=[{"rule": r} for r in names], lockstep=lockstep)
        for spec in member_specs(cmp):
            resolve(spec)
    except (UnknownName, Incompatible, SettingError) as err:
        _fail(str(err))
    total = member_specs(cmp)[0].steps

    def progress(i: int, step: int, record: Any) -> None:
        if not quiet and (step % max(1, total // 10) == 0 or step == total):
            typer.echo(f"{names[i]:<10} {step}/{total} loss {_fmt(record.loss)} acc "
                       f"{_fmt(100 * record.accuracy, '.0f')} %", err=True)

    try:
        result = run_compare(cmp, target, progress)
    except ValueError as err:  # a rule refusing a size it cannot afford
        _fail(str(err))
    for line in compare_lines(result):
        typer.echo(line)
    if out is not None:
        import orjson

        out.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY))
        typer.echo(f"wrote {out}")


def compare_lines(result: dict[str, Any]) -> list[str]:
    """The comparison table: one row per member, then the winner."""
    t = result["target"]
    lines = [f"{'member':<22} {'final acc':>9} {'to ' + format(t, 'g'):>9} {'seconds':>8} {'state':>10} "
             f"{'ms/update':>9}"]
    for r in result["table"]:
        lines.append(f"{r['label']:<22} {_fmt(r['final_accuracy']):>9} {r['updates_to_target'] or '—'!s:>9} "
                     f"{_fmt(r['seconds_to_target'], '.1f'):>8} {_bytes(r['state_bytes'] or 0):>10} "
                     f"{_fmt(r['ms_per_update'], '.1f'):>9}")
    w = result["winner"]
    lines.append(f"winner: {w['label']} — {w['why']}" if w else "winner: none (no member has a final accuracy)")
    return lines


def _values(text: str) -> list[Any]:
    out = []
    for raw in _names(text, "--values"):
        try:
            out.append(json.loads(raw))
        except json.JSONDecodeError:
            out.append(raw)
    return out


@cli.command()
def sweep(
    setting: Annotated[str, typer.Option(help="The dotted setting that varies, e.g. task.delay.")],
    values: Annotated[str, typer.Option(help="Comma-separated values of the setting (the x axis).")],
    task: Annotated[str, typer.Option(help="Task name.")] = "dnms",
    rules: Annotated[str, typer.Option(help="Comma-separated rules: one line each.")] = "bptt,eprop,readout",
    seeds: Annotated[str, typer.Option(help="Comma-separated seeds; each point is their mean.")] = "0",
    arch: Annotated[str, typer.Option(help="Architecture.")] = "rnn",
    steps: Annotated[Optional[int], typer.Option(help="Updates per run (default: the run default).")] = None,
    batch: Annotated[Optional[int], typer.Option(help="Trials per update.")] = None,
    set_: Annotated[list[str], typer.Option("--set", help="A fixed setting of every run, e.g. arch.hidden=16.")]
    = [],
    jobs: Annotated[int, typer.Option(help="Runs in parallel, one thread each.")] = 1,
    out: Annotated[Optional[Path], typer.Option(help="Write the points and lines as JSON.")] = None,
) -> None:
    """Sweep one setting over values for several rules (each point the mean final accuracy over the seeds);
    print each point as it finishes, then the lines."""
    from pydantic import ValidationError

    from engine.compare import SweepSpec, sweep_points
    from engine.config import SettingError
    from engine.registry import UnknownName
    from engine.spec import Incompatible, resolve
    from engine.sweeping import sweep as run_sweep

    names = _names(rules, "--rules")
    _check_names("task", [task])
    _check_names("rule", names)
    try:
        seed_list = [int(s) for s in _names(seeds, "--seeds")]
    except ValueError:
        _fail(f"--seeds: {seeds!r} is not a comma-separated list of integers (e.g. 0,1)")
    try:
        sw = SweepSpec(base=_base_spec(task, arch, 0, steps, batch, set_), setting=setting, values=_values(values),
                       rules=names, seeds=seed_list)
        for *_, spec in sweep_points(sw):
            resolve(spec)
    except ValidationError as err:
        first = err.errors()[0]
        _fail(f"--{first['loc'][0]}: {first['msg']}")
    except (UnknownName, Incompatible, SettingError) as err:
        _fail(str(err))

    def on_point(p: dict[str, Any]) -> None:
        a = p["accuracy"]
        typer.echo(f"{p['rule']:<10} {setting}={p['value']!s:<8} accuracy {_fmt(a['mean'])} "
                   f"({_fmt(a['min'])}–{_fmt(a['max'])}, seeds {','.join(map(str, p['seeds']))})", err=True)

    result = run_sweep(sw, jobs, on_point)
    typer.echo(f"{'rule':<10} " + " ".join(f"{setting}={v!s:<6}" for v in sw.values))
    for rule, ys in result["lines"].items():
        typer.echo(f"{rule:<10} " + " ".join(f"{_fmt(y):<{len(setting) + 7}}" for y in ys))
    if out is not None:
        out.write_text(json.dumps(result, indent=1, default=str))
        typer.echo(f"wrote {out}")
from app.lesson_cli import lesson_cli  # noqa: E402  (creditlab lesson list / check)

cli.add_typer(lesson_cli, name="lesson")


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
