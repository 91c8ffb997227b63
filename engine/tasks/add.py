"""The Add task (Marschall, Cho & Savin 2020, JMLR 21; after Pitis's "r2rt" write-up).

A coin is flipped every step, x_t ∈ {0, 1}. The network must report the probability

    p_t = 0.5 + 0.5·x_{t−t1} − 0.25·x_{t−t2}                                       (1)

as a two-class soft label (p_t, 1 − p_t), trained with cross-entropy. Inputs are (x_t, 1 − x_t). Because the target
is itself random, the cross-entropy has floors that show what the network has learned:

    nothing remembered  H(0.625)                        ≈ 0.662                      (2)
    x_{t−t1} only       ½[H(0.375) + H(0.875)]          ≈ 0.519                      (3)
    both lags           mean over the four cases of H(p) ≈ 0.454                     (4)

where H is the binary entropy in nats. Steps before t2 are not judged (mask 0). A judged step counts as right when
the predicted probability lies within 0.125 of p_t (half the gap between two of its four values 0.25, 0.5, 0.75, 1),
and accuracy is the share of judged steps right; the loss against the floors (2)–(4) says more than accuracy.
"""

from __future__ import annotations

import math

import torch
from pydantic import Field, model_validator

from engine.config import ConfigModel
from engine.tasks import TASKS
from engine.tasks.base import Task
from engine.trial import Period, Trial


def _entropy(p: float) -> float:
    return -(p * math.log(p) + (1 - p) * math.log(1 - p)) if 0 < p < 1 else 0.0


#: Cross-entropy floors of Eqs. (2)–(4): learned nothing, learned the first lag, optimal.
FLOOR_NOTHING = _entropy(0.625)
FLOOR_T1 = 0.5 * (_entropy(0.375) + _entropy(0.875))
FLOOR_OPTIMAL = 0.25 * (_entropy(0.5) + _entropy(1.0) + _entropy(0.25) + _entropy(0.75))


class AddConfig(ConfigModel):
    t1: int = Field(6, ge=1, le=100)
    """First lag in steps: the input t1 steps ago adds 0.5 to the target probability."""
    t2: int = Field(10, ge=1, le=200)
    """Second lag in steps (longer than t1): the input t2 steps ago subtracts 0.25."""
    steps: int = Field(40, ge=2, le=2000)
    """Trial length in steps; only steps from t2 on are judged."""

    @model_validator(mode="after")
    def _lags(self) -> "AddConfig":
        if self.t2 <= self.t1:
            raise ValueError(f"t2 ({self.t2}) must be longer than t1 ({self.t1})")
        if self.steps <= self.t2:
            raise ValueError(f"steps ({self.steps}) must be longer than t2 ({self.t2})")
        return self


@TASKS.register("add")
class Add(Task):
    Config = AddConfig
    description = "Report a probability that depends on the coin flips t1 and t2 steps ago."
    reference = "Marschall, Cho & Savin 2020, JMLR 21:1-34"
    loss_kind = "xent"
    network = {"alpha": 0.5}  # the lags are exact step counts: a leak of 2 steps (Marschall et al. use α ∈ {1, ½})
    #: Always answering 0.5 is within 0.125 of the true probability only when it is 0.5: a quarter of the steps.
    chance = 0.25
    accuracy_note = ("A judged step is right when the predicted probability is within 0.125 of the true one "
                     "(half the gap between the four possible values); always answering 0.5 scores 25 %.")
    loss_floors = [
        {"value": round(FLOOR_NOTHING, 3), "label": "remembers nothing"},
        {"value": round(FLOOR_T1, 3), "label": "remembers the flip t1 steps ago"},
        {"value": round(FLOOR_OPTIMAL, 3), "label": "remembers both flips (best possible)"},
    ]
    config: AddConfig

    @property
    def n_inputs(self) -> int:
        return 2

    @property
    def n_outputs(self) -> int:
        return 2

    def sample(self, batch: int, generator: torch.Generator) -> Trial:
        c = self.config
        x = torch.randint(0, 2, (c.steps, batch), generator=generator).double()
        p = torch.full_like(x, 0.5)
        p[c.t1:] += 0.5 * x[: c.steps - c.t1]
        p[c.t2:] -= 0.25 * x[: c.steps - c.t2]  # Eq. (1)
        mask = torch.zeros_like(x)
        mask[c.t2:] = 1.0
        inputs = torch.stack([x, 1 - x], -1)
        targets = torch.stack([p, 1 - p], -1)
        periods = [Period("warm-up", 0, c.t2), Period("judged", c.t2, c.steps)]
        return Trial(inputs.float(), targets.float(), mask.float(), periods)

    def accuracy(self, outputs: torch.Tensor, trial: Trial) -> float:
        """Share of judged steps whose predicted probability lies within 0.125 of the true one (half the gap
        between the four possible values)."""
        p_hat = torch.softmax(outputs, -1)[..., 0]
        ok = ((p_hat - trial.targets[..., 0]).abs() < 0.125).to(trial.mask.dtype)
        return ((ok * trial.mask).sum() / trial.mask.sum()).item()
