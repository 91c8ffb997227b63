"""A room and its polls as the server keeps them, and the rules that change them (no web, no database here).

A poll's life: ``draft`` → ``open`` (votes count) → ``closed`` (votes refused, 409); the presenter may reopen it.
``revealed`` (independent of the state) lets the audience see the results. A prediction is *resolved* once: its
answer is stored, and it closes and is revealed.

Votes: one per participant per poll, a second replaces the first (Eq. 1: ``votes[participant] = value``).
"""

from __future__ import annotations

import csv
import io
import math
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from app.rooms.models import PollCreate, SliderPoll

PollState = Literal["draft", "open", "closed"]


class RoomError(Exception):
    """A refused change; ``status`` is the HTTP status it becomes (404, 409, 422)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(eq=False)
class Poll:
    id: str
    room: str
    position: int
    spec: PollCreate
    state: PollState = "draft"
    revealed: bool = False
    answer: dict[str, Any] | None = None
    created: float = field(default_factory=time.time)
    votes: dict[str, float] = field(default_factory=dict)
    """participant id → value (a slider's number or an option's index)."""

    @staticmethod
    def new(room: str, position: int, spec: PollCreate) -> "Poll":
        return Poll(secrets.token_hex(6), room, position, spec)

    @property
    def kind(self) -> str:
        return self.spec.kind

    def check_vote(self, value: float) -> float:
        """The value as stored, or RoomError: 409 if the poll is not open, 422 if the value is not a valid answer."""
        if self.state != "open":
            raise RoomError(409, f"poll {self.id} is {self.state}: votes are taken only while it is open")
        if not math.isfinite(value):
            raise RoomError(422, "value: must be a finite number")
        if isinstance(self.spec, SliderPoll):
            if not self.spec.low <= value <= self.spec.high:
                raise RoomError(422, f"value: must be between {self.spec.low:g} and {self.spec.high:g}")
            return float(value)
        n = len(self.spec.options)
        if value != int(value) or not 0 <= value < n:
            raise RoomError(422, f"value: must be the index of an option, 0 to {n - 1}")
        return int(value)

    def vote(self, participant: str, value: float) -> bool:
        """Record (or replace) ``participant``'s vote (Eq. 1); True if it replaced an earlier one."""
        stored = self.check_vote(value)
        replaced = participant in self.votes
        self.votes[participant] = stored
        return replaced

    def act(self, action: str) -> None:
        if action == "open":
            if self.answer is not None:
                raise RoomError(409, "this prediction is resolved; it cannot be reopened")
            self.state = "open"
        elif action == "close":
            if self.state != "open":
                raise RoomError(409, f"poll {self.id} is {self.state}, not open")
            self.state = "closed"
        elif action == "reveal":
            self.revealed = True
        elif action == "hide":
            self.revealed = False

    def resolve(self, answer: dict[str, Any]) -> None:
        if self.kind != "prediction":
            raise RoomError(409, f"only predictions are resolved; this poll is a {self.kind}")
        if self.answer is not None:
            raise RoomError(409, "this prediction is already resolved")
        self.answer = answer
        self.state = "closed"
        self.revealed = True

    def results(self) -> dict[str, Any]:
        """Live tallies: every value of a slider (for a density plot), counts per option otherwise."""
        values = list(self.votes.values())
        if isinstance(self.spec, SliderPoll):
            mean = sum(values) / len(values) if values else None
            return {"count": len(values), "values": sorted(values), "mean": mean}
        counts = [0] * len(self.spec.options)
        for v in values:
            counts[int(v)] += 1
        return {"count": len(values), "counts": counts}

    def view(self, presenter: bool) -> dict[str, Any]:
        """The poll as a client sees it: results for the presenter always, for the audience once revealed."""
        out = {"id": self.id, **self.spec.model_dump(), "state": self.state, "revealed": self.revealed,
               "votes": len(self.votes)}
        if presenter or self.revealed:
            out["results"] = self.results()
            out["answer"] = self.answer
        return out

    def csv(self) -> str:
        """One row per vote: participant (a short pseudonym, not the cookie), value, and the option's label."""
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["poll", "kind", "question", "voter", "value", "label"])
        labels = getattr(self.spec, "options", None)
        for i, value in enumerate(self.votes.values(), 1):
            label = labels[int(value)] if labels else ""
            w.writerow([self.id, self.kind, self.spec.question, f"voter{i}", f"{value:g}", label])
        return buf.getvalue()


@dataclass(eq=False)
class Room:
    code: str
    title: str
    presenter: str
    """SHA-256 of the presenter's token."""
    password: str | None = None
    shown: dict[str, Any] | None = None
    created: float = field(default_factory=time.time)
    polls: dict[str, Poll] = field(default_factory=dict)

    def poll(self, poll_id: str) -> Poll:
        poll = self.polls.get(poll_id)
        if poll is None:
            raise RoomError(404, f"no poll {poll_id!r} in room {self.code}")
        return poll

    @property
    def hidden_run(self) -> str | None:
        """The run whose rule this room hides (guess the rule, before the reveal), if any."""
        s = self.shown
        return s["id"] if s is not None and s["kind"] == "guess" and s.get("hidden") else None

    def shown_view(self, presenter: bool) -> dict[str, Any] | None:
        """What is shown, as this client may know it: a hidden run's id and rule only for the presenter."""
        s = self.shown
        if s is None or s["kind"] != "guess" or presenter or not s.get("hidden"):
            return s
        return {"kind": "guess", "poll": s["poll"], "hidden": True}

    def view(self, presenter: bool) -> dict[str, Any]:
        return {"code": self.code, "title": self.title, "shown": self.shown_view(presenter),
                "locked": self.password is not None,
                "polls": [p.view(presenter) for p in sorted(self.polls.values(), key=lambda p: p.position)]}


def first_to_reach(histories: list[list[dict[str, Any]]], metric: str, target: float) -> dict[str, Any]:
    """Which history reaches ``metric ≥ target`` at the earliest update: ``{"option", "steps"}`` where ``steps[i]``
    is the first step at which history i reached it (None: never). No history reached it → RoomError 409."""
    steps: list[int | None] = []
    for history in histories:
        hit = next((r["step"] for r in history if (r.get(metric) is not None and r[metric] >= target)), None)
        steps.append(hit)
    reached = [(s, i) for i, s in enumerate(steps) if s is not None]
    if not reached:
        raise RoomError(409, f"no run has reached {metric} {target:g} yet; resolve when one has")
    return {"option": min(reached)[1], "steps": steps, "metric": metric, "target": target}
