"""Delayed non-match-to-sample (after the Delay_Nonmatch task of Marschall, Cho & Savin 2020).

Channel 0 is a fixation signal, on until the answer is due; channels 1..K are one-hot stimulus channels. A trial is

    sample  s ~ U{1..K}  shown for ``stimulus_steps``
    delay   ``delay`` steps of silence, or of brief random distractor stimuli
    test    r, shown for ``stimulus_steps``: r = s with probability ½, else r ~ U({1..K} \\ {s})
    answer  fixation off; the network reports the class

            c = 0 ("match") if r = s,  c = 1 ("non-match") otherwise                       (1)

as a two-class one-hot target under cross-entropy, judged only while fixation is off (mask 1 there, 0 elsewhere).
With ``noise`` σ > 0, every input channel gets independent N(0, σ²) noise at every step. Neither the sample alone nor
the test alone says anything about c, so the answer needs the sample carried across the delay.
"""

from __future__ import annotations

import torch
from pydantic import Field, model_validator

from engine.config import ConfigModel
from engine.tasks import TASKS
from engine.tasks.base import Task, decision_accuracy
from engine.trial import Period, Trial


class DNMSConfig(ConfigModel):
    classes: int = Field(2, ge=2, le=16)
    """Number K of stimulus classes (one input channel each); more classes means more to remember."""
    stimulus_steps: int = Field(4, ge=1, le=50)
    """How many steps the sample and the test stimulus are each shown."""
    delay: int = Field(10, ge=0, le=500)
    """Steps between the end of the sample and the start of the test: how long the sample must be held."""
    distractors: int = Field(0, ge=0, le=500)
    """Number of one-step random stimuli flashed at random steps of the delay (at most one per step)."""
    response_steps: int = Field(4, ge=1, le=50)
    """Steps of the answer period (fixation off), the only steps that are judged."""
    noise: float = Field(0.1, ge=0.0, le=5.0)
    """Standard deviation of Gaussian noise added to every input channel at every step (0: clean inputs)."""

    @model_validator(mode="after")
    def _fits(self) -> "DNMSConfig":
        if self.distractors > self.delay:
            raise ValueError(f"distractors ({self.distractors}) cannot exceed delay ({self.delay}): "
                             "at most one distractor per delay step")
        return self


@TASKS.register("dnms")
class DNMS(Task):
    Config = DNMSConfig
    description = "Remember a sample stimulus over a delay, then say whether the test stimulus differs from it."
    reference = "Marschall, Cho & Savin 2020, JMLR 21:1-34 (Delay_Nonmatch task)"
    loss_kind = "xent"
    chance = 0.5
    accuracy_note = "A trial is right when the mean answer over the judged steps picks the correct side (match or non-match)."
    config: DNMSConfig

    @property
    def n_inputs(self) -> int:
        return 1 + self.config.classes

    @property
    def n_outputs(self) -> int:
        return 2

    def periods(self) -> list[Period]:
        c = self.config
        bounds = [("sample", c.stimulus_steps), ("delay", c.delay), ("test", c.stimulus_steps),
                  ("response", c.response_steps)]
        out, t = [], 0
        for name, length in bounds:
            out.append(Period(name, t, t + length))
            t += length
        return [p for p in out if p.stop > p.start]  # no empty delay

    def sample(self, batch: int, generator: torch.Generator) -> Trial:
        c = self.config
        K, g = c.classes, generator
        stim, d = c.stimulus_steps, c.delay
        test_start, resp_start = stim + d, 2 * stim + d
        T = resp_start + c.response_steps
        s = torch.randint(0, K, (batch,), generator=g)
        nonmatch = torch.randint(0, 2, (batch,), generator=g)
        shift = torch.randint(1, K, (batch,), generator=g)
        r = torch.where(nonmatch.bool(), (s + shift) % K, s)  # test class; Eq. (1) gives label = nonmatch
        rows = torch.arange(batch)
        x = torch.zeros(T, batch, 1 + K)
        x[:resp_start, :, 0] = 1.0  # fixation until the answer is due
        x[:stim, rows, 1 + s] = 1.0
        x[test_start:resp_start, rows, 1 + r] = 1.0
        if c.distractors:
            steps = torch.rand(batch, d, generator=g).argsort(-1)[:, : c.distractors]  # distinct steps
            kinds = torch.randint(0, K, (batch, c.distractors), generator=g)
            x[stim + steps, rows[:, None], 1 + kinds] = 1.0
        if c.noise > 0:
            x = x + c.noise * torch.randn(x.shape, generator=g)
        targets = torch.zeros(T, batch, 2)
        mask = torch.zeros(T, batch)
        targets[resp_start:, rows, nonmatch] = 1.0
        mask[resp_start:] = 1.0
        return Trial(x, targets, mask, self.periods(), labels=nonmatch)

    def accuracy(self, outputs: torch.Tensor, trial: Trial) -> float:
        """Share of trials whose mean output over the answer period picks the right class of Eq. (1)."""
        return decision_accuracy(outputs, trial)
