"""A batch of trials: what the network sees, what it should say, and when it is judged."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass(frozen=True)
class Period:
    """A named time range ``[start, stop)`` in steps, e.g. ``Period("delay", 10, 40)``."""

    name: str
    start: int
    stop: int


@dataclass
class Trial:
    """One batch of trials, time-major.

    ``inputs`` [T, B, I] and ``targets`` [T, B, O] are float tensors; ``mask`` [T, B] weighs the loss at each step
    (0 where the network is not judged). For cross-entropy tasks ``targets`` holds class probabilities (one-hot or
    soft). ``periods`` name the phases of batch element 0 for display; ``labels`` [B] is an optional integer class
    per trial (e.g. match / non-match) for tasks judged by one decision.
    """

    inputs: torch.Tensor
    targets: torch.Tensor
    mask: torch.Tensor
    periods: list[Period] = field(default_factory=list)
    labels: torch.Tensor | None = None

    def __post_init__(self) -> None:
        T, B = self.inputs.shape[:2]
        if self.targets.shape[:2] != (T, B) or self.mask.shape != (T, B):
            raise ValueError(
                f"trial shapes disagree: inputs {tuple(self.inputs.shape)}, targets {tuple(self.targets.shape)}, "
                f"mask {tuple(self.mask.shape)}"
            )

    @property
    def steps(self) -> int:
        return self.inputs.shape[0]

    @property
    def batch(self) -> int:
        return self.inputs.shape[1]

    def to(self, dtype: torch.dtype) -> "Trial":
        """The same trial with float tensors cast to ``dtype``."""
        return Trial(self.inputs.to(dtype), self.targets.to(dtype), self.mask.to(dtype), self.periods, self.labels)
