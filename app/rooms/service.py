"""The rooms of one server: kept in memory, written through to the database, broadcast on every change.

Every change goes through here, so each is checked (the route has already checked who may make it), stored
(app/rooms/persist.py) and broadcast to the room's listeners (app/rooms/hub.py), in that order.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any, Callable

from app.rooms import access, persist
from app.rooms.hub import RoomHub
from app.rooms.models import PollCreate, PredictionPoll, ResolveBody
from app.rooms.relay import Relay
from app.rooms.sandbox import Sandbox, counts, small_copy
from app.rooms.room import Poll, Room, RoomError, first_to_reach
from app.runs.manager import RunManager
from app.runs.ratelimit import TokenBucket
from app.store import Store


class Limits:
    """One token bucket per participant (app/runs/ratelimit.py), the least recently used forgotten past ``cap``."""

    def __init__(self, rate: float, burst: float, cap: int = 20_000):
        self.rate, self.burst, self.cap = rate, burst, cap
        self.buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def take(self, participant: str) -> bool:
        bucket = self.buckets.pop(participant, None) or TokenBucket(self.rate, self.burst)
        self.buckets[participant] = bucket
        if len(self.buckets) > self.cap:
            self.buckets.popitem(last=False)
        return bucket.take()


class Rooms:
    def __init__(self, store: Store, manager: RunManager, *, vote_rate: float = 2.0, vote_burst: float = 10.0,
                 join_rate: float = 0.5, join_burst: float = 10.0):
        self.store = store
        self.manager = manager
        self.rooms = persist.load(store)
        self.hubs: dict[str, RoomHub] = {}
        self.relays: dict[str, Relay] = {}
        self.sandboxes: dict[str, Sandbox] = {}
        """Room code → its open sandbox (app/rooms/sandbox.py; in memory only)."""
        self.starts = Limits(0.2, 3.0)
        """Room code → the relay of the run it shows to its audience (made when the first seat joins)."""
        self.votes = Limits(vote_rate, vote_burst)
        self.joins = Limits(join_rate, join_burst)

    # -- reading ------------------------------------------------------------------------------------------------
    def get(self, code: str) -> Room:
        room = self.rooms.get(code.upper())
        if room is None:
            raise RoomError(404, f"no room with code {code!r}")
        return room

    def hub(self, room: Room) -> RoomHub:
        hub = self.hubs.get(room.code)
        if hub is None:
            hub = self.hubs[room.code] = RoomHub(lambda presenter: {**room.view(presenter),
                                                                     "sandbox": self.sandbox_view(room, presenter)})
        return hub

    def hidden_runs(self) -> dict[str, Room]:
        """Run id → the room that hides its rule (guess the rule, before the reveal)."""
        return {room.hidden_run: room for room in self.rooms.values() if room.hidden_run is not None}

    def relay(self, room: Room) -> Relay | None:
        """The relay of the run ``room`` shows (made now if needed; event loop only), or None if it shows none."""
        shown = room.shown
        if shown is None or shown["kind"] not in ("run", "guess"):
            return None
        relay = self.relays.get(room.code)
        if relay is not None and relay.run.id == shown["id"] and not relay.task.done():
            return relay
        run = self.manager.get(shown["id"])
        if run is None:
            return None
        if relay is not None:
            relay.retire()
        relay = self.relays[room.code] = Relay(run, hidden=room.hidden_run is not None)
        return relay

    # -- changes ------------------------------------------------------------------------------------------------
    def create(self, title: str, password: str | None) -> tuple[Room, str]:
        """A new room and its presenter token (returned once, kept only as a digest)."""
        code = access.new_code()
        while code in self.rooms:
            code = access.new_code()
        token = access.mint()
        room = Room(code, title, access.digest(token),
                    access.hash_password(password) if password is not None else None)
        self.rooms[code] = room
        persist.save_room(self.store, room)
        return room, token

    def show(self, room: Room, shown: dict[str, Any] | None,
             exists: Callable[[str, str], bool] | None = None) -> None:
        """Show ``shown`` to the room. A run must exist here; a comparison or lesson must pass ``exists(kind, key)``
        (the route knows the comparisons and lessons; this module does not)."""
        if shown is not None and shown["kind"] == "run" and self.manager.get(shown["id"]) is None:
            raise RoomError(404, f"shown.id: no run with id {shown['id']!r}")
        if shown is not None and shown["kind"] != "run":
            key = shown.get("id") or shown.get("name")
            if exists is None or not exists(shown["kind"], key):
                field = "id" if "id" in shown else "name"
                raise RoomError(404, f"shown.{field}: no {shown['kind']} {key!r}")
        self._set_shown(room, shown)

    def _set_shown(self, room: Room, shown: dict[str, Any] | None) -> None:
        room.shown = shown
        persist.save_room(self.store, room)
        relay = self.relays.get(room.code)
        if relay is not None and (shown is None or shown.get("id") != relay.run.id):
            relay.retire()
            del self.relays[room.code]
        self._changed(room)

    def guess(self, room: Room, run_id: str, rule: str, options: list[str], question: str) -> Poll:
        """Show run ``run_id`` with its rule hidden and open a prediction whose options are rules (``rule`` among
        them); :meth:`reveal` settles it."""
        if rule not in options:
            raise RoomError(422, "options: must include the run's rule")
        if room.code in self.sandboxes:
            raise RoomError(409, "close the sandbox before guessing a rule (its preset names one)")
        poll = self.add_poll(room, PredictionPoll(kind="prediction", question=question, options=options))
        poll.act("open")
        persist.save_poll(self.store, poll)
        self._set_shown(room, {"kind": "guess", "id": run_id, "poll": poll.id, "hidden": True, "rule": rule})
        return poll

    def reveal(self, room: Room) -> Poll:
        """Show the hidden rule: the guess's prediction is resolved with it (the answer beside the votes)."""
        shown = room.shown
        if shown is None or shown["kind"] != "guess" or not shown.get("hidden"):
            raise RoomError(409, "this room hides no rule now")
        poll = room.poll(shown["poll"])
        if poll.answer is None:
            poll.resolve({"option": poll.spec.options.index(shown["rule"]), "rule": shown["rule"],  # type: ignore[union-attr]
                          "run": shown["id"]})
            persist.save_poll(self.store, poll)
        self._set_shown(room, {**shown, "hidden": False})
        relay = self.relays.get(room.code)
        if relay is not None:
            relay.reveal()
        return poll

    def add_poll(self, room: Room, spec: PollCreate) -> Poll:
        if len(room.polls) >= 100:
            raise RoomError(409, "a room holds at most 100 polls")
        poll = Poll.new(room.code, len(room.polls), spec)
        room.polls[poll.id] = poll
        persist.save_poll(self.store, poll)
        self._changed(room)
        return poll

    def act(self, room: Room, poll_id: str, action: str) -> Poll:
        poll = room.poll(poll_id)
        poll.act(action)
        persist.save_poll(self.store, poll)
        self._changed(room)
        return poll

    def resolve(self, room: Room, poll_id: str, body: ResolveBody) -> Poll:
        poll = room.poll(poll_id)
        n = len(getattr(poll.spec, "options", []))
        if body.option is not None:
            if body.option >= n:
                raise RoomError(422, f"option: must be 0 to {n - 1}")
            answer: dict[str, Any] = {"option": body.option}
        else:
            assert body.runs is not None
            if len(body.runs) != n:
                raise RoomError(422, f"runs: give one run per option ({n}), in option order")
            runs = [self.manager.get(run_id) for run_id in body.runs]
            missing = [run_id for run_id, run in zip(body.runs, runs) if run is None]
            if missing:
                raise RoomError(404, f"runs: no run with id {missing[0]!r}")
            answer = {**first_to_reach([r.history for r in runs if r], body.metric, body.target),
                      "runs": body.runs}
        poll.resolve(answer)
        persist.save_poll(self.store, poll)
        self._changed(room)
        return poll

    def vote(self, room: Room, poll_id: str, participant: str, value: float) -> bool:
        poll = room.poll(poll_id)
        poll.check_vote(value)  # a refused vote costs no rate budget
        if not self.votes.take(participant):
            raise RoomError(429, "too many votes: wait a moment and vote again")
        replaced = poll.vote(participant, value)
        persist.save_vote(self.store, poll, participant, time.time())
        self._changed(room)
        return replaced

    def _changed(self, room: Room) -> None:
        hub = self.hubs.get(room.code)
        if hub is not None:
            hub.changed()

    # -- the sandbox (event loop only: it starts and stops runs) ---------------------------------------------------
    def open_sandbox(self, room: Room, spec: dict[str, Any] | None) -> Sandbox:
        """Open the sandbox on ``spec`` (default: the shown run's). Not while a rule is hidden: the sandbox's
        preset is shown to everyone, and guessing and trying do not mix."""
        if room.hidden_run is not None:
            raise RoomError(409, "the room hides the shown run's rule: reveal it before opening a sandbox")
        if spec is None:
            run = self.manager.get(room.shown["id"]) if room.shown and room.shown["kind"] in ("run", "guess") else None
            if run is None:
                raise RoomError(422, "spec: the room shows no run to copy; give a spec")
            spec = run.spec
        box = self.sandboxes[room.code] = Sandbox(small_copy(spec))
        self._changed(room)
        return box

    def sandbox_view(self, room: Room, presenter: bool) -> dict[str, Any] | None:
        """Whether a sandbox is open and what it trains; for the presenter, how many copies run and wait."""
        box = self.sandboxes.get(room.code)
        if box is None:
            return None
        spec = box.spec
        out: dict[str, Any] = {"open": True, "task": spec.get("task"), "arch": spec.get("arch"),
                               "rule": spec.get("rule"), "units": spec.get("arch_config", {}).get("hidden")}
        if presenter:
            runs = [self.manager.get(run_id) for run_id in box.runs.values()]
            out["counts"] = counts([r.status for r in runs if r is not None])
        return out

    async def start_copy(self, room: Room, participant: str,
                         mint: Callable[[], tuple[str | None, str]]) -> dict[str, Any]:
        """This participant's copy: their running one, or a new one (``mint``: a new owner token, or None for the
        participant's own, and its digest)."""
        from app.protocol import LIVE
        from engine.spec import RunSpec

        box = self.sandboxes.get(room.code)
        if box is None:
            raise RoomError(409, "the sandbox is closed: the presenter opens it")
        mine = self.manager.get(box.runs.get(participant, ""))
        if mine is not None and mine.status in LIVE:
            return {"run": mine.id, "status": mine.status, "queue_position": mine.queue_position, "again": True}
        if not self.starts.take(participant):
            raise RoomError(429, "too many starts: wait a moment")
        token, owner = mint()
        run = await self.manager.create(RunSpec.model_validate(box.spec), owner=owner)
        run.autoplay = "play"
        box.runs[participant] = run.id
        self._changed(room)
        return {"run": run.id, "status": run.status, "queue_position": run.queue_position, "again": False,
                **({"owner_token": token} if token else {})}

    async def close_sandbox(self, room: Room) -> int:
        """Close the sandbox and stop every copy still training; how many were stopped."""
        from app.protocol import CONTROL, LIVE

        box = self.sandboxes.pop(room.code, None)
        if box is None:
            raise RoomError(409, "no sandbox is open")
        stopped = 0
        for run_id in box.runs.values():
            run = self.manager.get(run_id)
            if run is not None and run.status in LIVE:
                await self.manager.control(run, CONTROL.validate_python({"action": "stop"}))
                stopped += 1
        self._changed(room)
        return stopped

    async def close(self) -> None:
        for hub in self.hubs.values():
            await hub.close_all()
