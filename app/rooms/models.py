"""What clients send to and receive from a room, as typed values (docs/rooms.md).

*What a room shows* is a discriminated union on ``kind``: a run (``{"kind": "run", "id": ...}``), a comparison
(``{"kind": "comparison", "id": ...}``) or a lesson (``{"kind": "lesson", "name": ...}``); the audience page picks
its view by ``kind``.

A poll is one of three kinds (``kind``):

* ``slider``: a number in ``[low, high]`` (default 0–100); ``labels`` (optional) name evenly spaced points of the
  scale, from ``low`` to ``high``. Results are every value (drawn as a density).
* ``choice``: one of ``options`` (2–8). Results are counts per option.
* ``prediction``: one of ``options``, later *resolved* by the presenter: either by naming the right option or by
  the runs that settle it ("which rule reaches 90 % first?": one run per option, the first whose accuracy reaches
  the target wins).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Text = Annotated[str, Field(min_length=1, max_length=300)]
Label = Annotated[str, Field(min_length=1, max_length=80)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ShownRun(Strict):
    kind: Literal["run"] = "run"
    id: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")
    """The run's id; the audience watches it through its watch link (``/#run=<id>``)."""


class ShownComparison(Strict):
    kind: Literal["comparison"]
    id: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")
    """The comparison's id; the audience watches its page (``/compare/<id>``): curves overlaid, table, winner."""


class ShownLesson(Strict):
    kind: Literal["lesson"]
    name: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9-]+$")
    """The lesson's name; the audience sees its page (``/lessons/<name>``): the question first."""


#: What a room shows (``kind`` tells them apart).
Shown = Annotated[ShownRun | ShownComparison | ShownLesson, Field(discriminator="kind")]


class ShowBody(Strict):
    shown: Shown | None
    """What the room shows now; null shows nothing."""


class RoomCreate(Strict):
    title: Text
    """Shown to everyone who joins."""
    password: str | None = Field(None, min_length=1, max_length=200)
    """If set, checked before anything of the room is shown."""


class JoinBody(Strict):
    password: str | None = Field(None, max_length=200)


class SliderPoll(Strict):
    kind: Literal["slider"]
    question: Text
    low: float = 0.0
    high: float = 100.0
    labels: list[Label] = Field(default_factory=list, max_length=11)
    """Names of evenly spaced points from ``low`` to ``high`` (a labelled scale); empty: plain numbers."""

    @model_validator(mode="after")
    def _range(self) -> "SliderPoll":
        if not self.low < self.high:
            raise ValueError(f"low must be below high (low={self.low}, high={self.high})")
        if len(self.labels) == 1:
            raise ValueError("labels: give none, or at least two (the scale's ends)")
        return self


class ChoicePoll(Strict):
    kind: Literal["choice"]
    question: Text
    options: list[Label] = Field(min_length=2, max_length=8)


class PredictionPoll(Strict):
    kind: Literal["prediction"]
    question: Text
    options: list[Label] = Field(min_length=2, max_length=8)


PollCreate = Annotated[SliderPoll | ChoicePoll | PredictionPoll, Field(discriminator="kind")]


class PollCreateBody(BaseModel):
    poll: PollCreate


class VoteBody(Strict):
    value: float | int
    """A slider's number, or the index of the chosen option."""


class ResolveBody(Strict):
    option: int | None = Field(None, ge=0)
    """The right option, named by the presenter; or give ``runs`` instead."""
    runs: list[str] | None = Field(None, min_length=2, max_length=8)
    """One run id per option, in option order: the first to reach ``target`` on ``metric`` is the answer."""
    metric: Literal["accuracy"] = "accuracy"
    target: float = Field(0.9, gt=0, le=1)

    @model_validator(mode="after")
    def _one(self) -> "ResolveBody":
        if (self.option is None) == (self.runs is None):
            raise ValueError("give either option (the answer) or runs (one per option, to settle it)")
        return self


PollAction = Literal["open", "close", "reveal", "hide"]


class GuessBody(Strict):
    """Guess the rule: the room starts ``spec`` for the presenter with its rule hidden, and opens a prediction."""
    spec: dict[str, Any]
    """The run to start, as ``POST /api/runs`` takes it (its ``rule`` is the answer)."""
    options: list[str] | None = Field(None, min_length=2, max_length=8)
    """The rules to choose from (must include the run's); default: every rule that trains the network, at most
    eight, in alphabetical order."""
    question: Text = "Which learning rule is training this network?"
    play: bool = True
    """Start training as soon as the run's worker is ready."""
