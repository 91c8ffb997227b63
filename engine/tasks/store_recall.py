"""Store and recall: hold an analog value over a variable delay, then report it when asked (a one-slot memory).

Input channels: 0 a value, 1 a store cue, 2 a recall cue. After ``LEAD`` steps the store cue is on for one step, and
the value channel then shows v ~ U(−1, 1). Each trial b draws its own delay d_b ~ U{min_delay..max_delay}; after it
the recall cue is on for ``recall_steps`` and the network must output the stored value,

    y*_t = v_b  for  LEAD + 1 + d_b ≤ t < LEAD + 1 + d_b + recall_steps                   (1)

under mean squared error judged on those steps only (mask 1 there, so the mask differs between trials). With
``distractors`` the value channel shows a fresh U(−1, 1) value at every other step too, and only the cue says which
one to keep. Trials are padded to the longest delay; ``periods`` describe trial 0. A recall counts as right when the
mean output over the recall steps lies within ``tolerance`` of v_b (default 0.1, a twentieth of the values' range),
and accuracy is the share of trials recalled right; answering 0 every time is right on 10 % of trials.
"""

from __future__ import annotations

import torch
from pydantic import Field, model_validator

from engine.config import ConfigModel
from engine.tasks import TASKS
from engine.tasks.base import Task
from engine.trial import Period, Trial

#: Steps before the store cue (values shown there are distractors when ``distractors`` is on).
LEAD = 2


class StoreRecallConfig(ConfigModel):
    min_delay: int = Field(2, ge=0, le=1000)
    """Shortest delay in steps between the store cue and the recall cue."""
    max_delay: int = Field(10, ge=0, le=1000)
    """Longest delay in steps; each trial draws its delay uniformly between min_delay and max_delay."""
    recall_steps: int = Field(2, ge=1, le=100)
    """Steps the recall cue stays on; the network is judged on these steps only."""
    distractors: bool = True
    """Show a fresh random value at every step, not only under the store cue, so the cue must gate what is kept."""
    tolerance: float = Field(0.1, gt=0.0, le=2.0)
    """A recall is right when its mean output lies within this distance of the stored value (values span −1..1)."""

    @model_validator(mode="after")
    def _delays(self) -> "StoreRecallConfig":
        if self.min_delay > self.max_delay:
            raise ValueError(f"min_delay ({self.min_delay}) must not exceed max_delay ({self.max_delay})")
        return self


@TASKS.register("store_recall")
class StoreRecall(Task):
    Config = StoreRecallConfig
    description = "Store the value shown with the store cue and report it when the recall cue comes."
    reference = "Hochreiter & Schmidhuber 1997, Neural Comput. 9:1735 (store/recall memory tasks)"
    loss_kind = "mse"
    accuracy_note = ("A regression task: a trial is right when the mean output over the recall steps lies within "
                     "the tolerance (a task setting, 0.1 by default) of the stored value; chance depends on it.")
    config: StoreRecallConfig

    @property
    def n_inputs(self) -> int:
        return 3

    @property
    def n_outputs(self) -> int:
        return 1

    def sample(self, batch: int, generator: torch.Generator) -> Trial:
        c, g = self.config, generator
        T = LEAD + 1 + c.max_delay + c.recall_steps
        delay = torch.randint(c.min_delay, c.max_delay + 1, (batch,), generator=g)
        value = 2 * torch.rand(batch, generator=g) - 1
        x = torch.zeros(T, batch, 3)
        if c.distractors:
            x[..., 0] = 2 * torch.rand(T, batch, generator=g) - 1
        x[LEAD, :, 0] = value
        x[LEAD, :, 1] = 1.0
        t = torch.arange(T)[:, None]
        start = LEAD + 1 + delay  # [B]
        recall = (t >= start) & (t < start + c.recall_steps)  # [T, B], Eq. (1)
        x[..., 2] = recall.float()
        mask = recall.float()
        targets = (mask * value).unsqueeze(-1)
        s0 = int(start[0])
        periods = [Period("before", 0, LEAD), Period("store", LEAD, LEAD + 1), Period("delay", LEAD + 1, s0),
                   Period("recall", s0, s0 + c.recall_steps)]
        periods.append(Period("after", s0 + c.recall_steps, T))
        return Trial(x, targets, mask, [p for p in periods if p.stop > p.start])

    def accuracy(self, outputs: torch.Tensor, trial: Trial) -> float:
        """Share of trials whose mean output over the recall steps is within ``tolerance`` of the stored value."""
        w = trial.mask
        n = w.sum(0).clamp_min(1e-12)
        said = (outputs[..., 0] * w).sum(0) / n
        stored = (trial.targets[..., 0] * w).sum(0) / n
        return ((said - stored).abs() <= self.config.tolerance).double().mean().item()
