"""All comparisons of one server: create them (their members become runs), control them, end their drivers.

A comparison counts against the concurrency cap as one run per member, and against its owner's
``max_runs_per_owner`` the same way: a comparison that cannot fit is refused whole (HTTP 429), before any member
is made. Comparisons are kept in the database (app/comparisons/persist.py) and restored at start-up with their
members, which are runs like any other.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Literal

from app.comparisons import persist
from app.comparisons.comparison import Comparison, in_turn_message
from app.comparisons.lockstep import drive
from app.protocol import FINISHED, Pause, Play, Stop
from app.runs.controls import Conflict
from app.runs.limits import LimitExceeded, active
from app.runs.manager import RunManager
from engine.compare import ComparisonSpec, member_specs
from engine.comparing import labels
from engine.config import SettingError
from engine.registry import UnknownName
from engine.spec import Incompatible, RunSpec, resolve

Action = Literal["play", "pause", "stop"]


#: The RunSpec field each registry kind is named by.
_KIND_FIELD = {"task": "task", "architecture": "arch", "credit rule": "rule"}


def check_member(spec: ComparisonSpec, i: int, member: RunSpec) -> None:
    """Resolve member ``i``; every error becomes a :class:`SettingError` naming where the bad value came from:
    ``members.i.<field>`` if the member set it, else ``base.<field>``."""
    try:
        resolve(member)
    except SettingError as err:
        raise SettingError(f"members.{i}.{err.field}", err.message) from None
    except (UnknownName, Incompatible) as err:
        name = _KIND_FIELD.get(err.kind, err.kind) if isinstance(err, UnknownName) else "rule"
        where = f"members.{i}" if name in spec.members[i] else "base"
        raise SettingError(f"{where}.{name}", str(err)) from None


class Comparisons:
    def __init__(self, manager: RunManager):
        self.manager = manager
        self.items: dict[str, Comparison] = {}

    def get(self, cmp_id: str) -> Comparison | None:
        return self.items.get(cmp_id)

    async def create(self, spec: ComparisonSpec, owner: str, target: float = 0.9) -> Comparison:
        """Check every member (raises the engine's errors, fields named ``members.i.…``) and the limits, then
        create the members as runs of ``owner``; they wait paused at step 0 until play."""
        specs = member_specs(spec)
        for i, member in enumerate(specs):
            check_member(spec, i, member)
        s = self.manager.settings
        mine = sum(1 for r in self.manager.runs.values() if r.owner == owner and active(r))
        if mine + len(specs) > s.max_runs_per_owner:
            raise LimitExceeded(
                f"this comparison needs {len(specs)} runs and you may have at most {s.max_runs_per_owner} waiting or "
                f"training at once ({mine} already): use fewer members, or stop some runs first")
        runs = []
        try:
            for member in specs:
                runs.append(await self.manager.create(member, owner=owner))
        except Exception:
            for run in runs:  # all or nothing
                self.manager.stop(run, "its comparison could not be created")
            raise
        cap = s.max_concurrent_runs
        mode = "lockstep" if spec.lockstep else "free"
        message = None
        if cap < len(runs):
            mode, message = "in_turn", in_turn_message(cap, len(runs))
        comparison = Comparison(secrets.token_hex(6), spec, labels(spec), runs, owner, mode, target, message)
        self.items[comparison.id] = comparison
        persist.save(self.manager.store, comparison)
        return comparison

    async def start(self) -> None:
        """Restore the stored comparisons (after the run manager has restored the runs)."""
        self.items.update(await asyncio.to_thread(persist.load, self.manager.store, self.manager))

    def control(self, comparison: Comparison, action: Action) -> None:
        """Play, pause or stop every member (lock-step: start or end the driver). Raises Conflict when nothing
        can change (every member has finished)."""
        live = [r for r in comparison.runs if r.status not in FINISHED]
        if not live and action != "stop":
            raise Conflict("every member of the comparison has finished")
        if action == "play":
            comparison.playing = True
            if comparison.mode == "lockstep":
                if comparison.driver is None or comparison.driver.done():
                    comparison.message = None
                    comparison.driver = asyncio.get_running_loop().create_task(drive(self.manager, comparison))
                return
            self._each(live, Play(action="play"))
        elif action == "pause":
            comparison.playing = False  # the driver ends after its wave
            if comparison.mode != "lockstep":
                self._each(live, Pause(action="pause"))
        else:
            comparison.playing = False
            self._each(live, Stop(action="stop"))

    def _each(self, runs: list, control: Play | Pause | Stop) -> None:
        for run in runs:
            try:
                self.manager.apply(run, control)
            except Conflict:
                pass  # e.g. a member that finished meanwhile

    async def close(self) -> None:
        """End every driver (before the run manager stops the workers)."""
        for c in self.items.values():
            c.playing = False
        drivers = [c.driver for c in self.items.values() if c.driver is not None and not c.driver.done()]
        if drivers:
            await asyncio.wait(drivers, timeout=10)
