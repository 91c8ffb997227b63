"""Path integration: add up a velocity signal and report the position it leads to (dead reckoning).

An agent starts at the origin of a ``dims``-dimensional space and moves with velocity v_t ~ N(0, ``speed``² I) at each
step of the moving period. The network sees v_t and must report the position

    p_t = Σ_{s ≤ t} v_s                                                                  (1)

under mean squared error. The default (a plane, 50 steps, judged at every step) needs the sum kept over many
steps: a fixed random network's leak forgets old velocities within about 1/α steps, so readout-only explains
50–86 % of the variance (seeds 0–4) while rules that train the recurrent weights build an integrator (about
98 %). With ``report="continuous"`` it is judged at every step. With ``report="end"`` the agent stops for the
last ``report_steps`` (v = 0 there, so p stays put) and only those steps are judged. A last input channel is 1
exactly where the network is judged. Accuracy is the variance explained R² (clipped to [0, 1]) of
:func:`engine.tasks.base.explained_variance`. "Right" is graded, not counted: R² = 0.9 means the reported
position's RMS error is √0.1 ≈ 0.32 of the spread of the true positions; reporting the origin throughout scores 0.
"""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field, model_validator

from engine.config import ConfigModel
from engine.tasks import TASKS
from engine.tasks.base import Task
from engine.tasks.base import explained_variance
from engine.trial import Period, Trial


class PathConfig(ConfigModel):
    dims: int = Field(2, ge=1, le=3)
    """Dimensions of the space (1: a line, 2: a plane, 3: a volume); one velocity input and one output each."""
    steps: int = Field(50, ge=2, le=2000)
    """Trial length in steps, the report period included."""
    speed: float = Field(0.3, gt=0.0, le=10.0)
    """Standard deviation of each velocity component per step."""
    report: Literal["end", "continuous"] = "continuous"
    """When the position is judged: only after the agent stops (end), or at every step (continuous)."""
    report_steps: int = Field(3, ge=1, le=500)
    """Length of the final still period that is judged when report is end (ignored for continuous)."""

    @model_validator(mode="after")
    def _room_to_move(self) -> "PathConfig":
        if self.report == "end" and self.report_steps >= self.steps:
            raise ValueError(f"report_steps ({self.report_steps}) must be shorter than steps ({self.steps}) "
                             "so that the agent moves before it reports")
        return self


@TASKS.register("path_integration")
class PathIntegration(Task):
    Config = PathConfig
    description = "Integrate a velocity input over time and report the position reached."
    reference = "Cueva & Wei 2018, ICLR (recurrent networks trained to integrate velocity)"
    loss_kind = "mse"
    accuracy_note = ("A regression task: \"right\" is the variance explained (R², 0 to 100 %) by the reported "
                     "positions on the judged steps, not a share of trials; there is no chance level.")
    config: PathConfig

    @property
    def n_inputs(self) -> int:
        return self.config.dims + 1

    @property
    def n_outputs(self) -> int:
        return self.config.dims

    def periods(self) -> list[Period]:
        c = self.config
        if c.report == "continuous":
            return [Period("move", 0, c.steps)]
        stop = c.steps - c.report_steps
        return [Period("move", 0, stop), Period("report", stop, c.steps)]

    def sample(self, batch: int, generator: torch.Generator) -> Trial:
        c = self.config
        judged = self.periods()[-1]
        v = c.speed * torch.randn(c.steps, batch, c.dims, generator=generator)
        mask = torch.zeros(c.steps, batch)
        mask[judged.start:] = 1.0
        if c.report == "end":
            v[judged.start:] = 0.0  # the agent stands still while it reports
        position = v.cumsum(0)  # Eq. (1)
        x = torch.cat([v, mask.unsqueeze(-1)], -1)
        return Trial(x, position, mask, self.periods())

    def accuracy(self, outputs: torch.Tensor, trial: Trial) -> float:
        """Variance explained by the reported positions on the judged steps."""
        return explained_variance(outputs, trial)
