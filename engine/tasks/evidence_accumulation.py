"""Evidence accumulation, the cue task of Bellec et al. 2020 (e-prop), scaled down to short trials of a rate network.

The inputs are four populations of ``population`` channels each: left cues, right cues, a recall cue and noise.
Each trial favours one side f at random; each of the ``cues`` cues, shown for ``cue_steps`` and followed by
``gap_steps`` of silence, lands on side f with probability 0.7 (else on the other side). After a ``delay`` the recall
population comes on for ``recall_steps``, and the network must name the side that got more cues,

    c = 1 ("right") if n_right > n_left,  c = 0 ("left") otherwise                      (1)

(``cues`` is odd, so there is no tie), as a two-class one-hot target under cross-entropy judged during the recall
only. A channel of an active population is 1 at a step with probability ``cue_rate``; on top of that every channel
(and the noise population only this way) is 1 with probability ``noise``:

    x_{t,i} = max(on_{t,i} · Bernoulli(cue_rate), Bernoulli(noise))                     (2)

so the network must count noisy cues and keep the count across the delay.
"""

from __future__ import annotations

import torch
from pydantic import Field, model_validator

from engine.config import ConfigModel
from engine.tasks import TASKS
from engine.tasks.base import Task, decision_accuracy
from engine.trial import Period, Trial

#: Probability that a cue lands on the trial's favoured side (Bellec et al. use 0.7 against 0.3).
FAVOURED = 0.7


class EvidenceConfig(ConfigModel):
    cues: int = Field(7, ge=1, le=51)
    """Number of cues per trial (odd, so that one side always has more)."""
    cue_steps: int = Field(2, ge=1, le=50)
    """Steps each cue is shown."""
    gap_steps: int = Field(1, ge=0, le=50)
    """Silent steps after each cue."""
    delay: int = Field(10, ge=0, le=1000)
    """Steps between the last cue and the recall cue: how long the count must be held."""
    recall_steps: int = Field(4, ge=1, le=100)
    """Steps of the recall cue, the only steps that are judged."""
    population: int = Field(2, ge=1, le=25)
    """Input channels per population (left, right, recall, noise); more channels average out the noise."""
    cue_rate: float = Field(1.0, gt=0.0, le=1.0)
    """Probability that a channel of an active population is on at a given step."""
    noise: float = Field(0.05, ge=0.0, lt=1.0)
    """Probability that any channel is on at a given step by chance (the noise population fires only this way)."""

    @model_validator(mode="after")
    def _odd(self) -> "EvidenceConfig":
        if self.cues % 2 == 0:
            raise ValueError(f"cues ({self.cues}) must be odd so that one side always has more cues")
        if self.noise >= self.cue_rate:
            raise ValueError(f"noise ({self.noise}) must be below cue_rate ({self.cue_rate}), "
                             "or a cue cannot be told from chance firing")
        return self


@TASKS.register("evidence_accumulation")
class EvidenceAccumulation(Task):
    Config = EvidenceConfig
    description = "Count left and right cues, wait, then report the side that had more."
    reference = "Bellec et al. 2020, Nat. Commun. 11:3625 (evidence accumulation)"
    loss_kind = "xent"
    # Units that forget within a couple of steps (α = ½): the count must be held by learned recurrent dynamics. With
    # Murray's α = 0.1 each unit's own leak already integrates the cues and a fixed random network (readout-only)
    # reaches about 95 % (measured), so that default would show no contrast.
    network = {"alpha": 0.5}
    chance = 0.5
    accuracy_note = "A trial is right when the mean answer over the judged steps picks the side that had more cues."
    config: EvidenceConfig

    @property
    def n_inputs(self) -> int:
        return 4 * self.config.population

    @property
    def n_outputs(self) -> int:
        return 2

    def periods(self) -> list[Period]:
        c = self.config
        cues_end = c.cues * (c.cue_steps + c.gap_steps)
        recall = cues_end + c.delay
        periods = [Period("cues", 0, cues_end), Period("delay", cues_end, recall),
                   Period("recall", recall, recall + c.recall_steps)]
        return [p for p in periods if p.stop > p.start]  # no empty delay

    def sample(self, batch: int, generator: torch.Generator) -> Trial:
        c, g = self.config, generator
        recall_p = self.periods()[-1]
        T, P = recall_p.stop, c.population
        favoured = torch.randint(0, 2, (batch,), generator=g)  # 0 left, 1 right
        on_favoured = torch.rand(batch, c.cues, generator=g) < FAVOURED
        side = torch.where(on_favoured, favoured[:, None], 1 - favoured[:, None])  # [B, cues]
        label = (side.sum(-1) * 2 > c.cues).long()  # Eq. (1)
        on = torch.zeros(T, batch, 4)  # which population is active, per step
        period = c.cue_steps + c.gap_steps
        for k in range(c.cues):
            on[k * period: k * period + c.cue_steps, torch.arange(batch), side[:, k]] = 1.0
        on[recall_p.start:, :, 2] = 1.0
        on = on.repeat_interleave(P, dim=-1)  # [T, B, 4P]
        fired = on.bool() & (torch.rand(on.shape, generator=g) < c.cue_rate)
        chance = torch.rand(on.shape, generator=g) < c.noise
        x = (fired | chance).float()  # Eq. (2)
        targets = torch.zeros(T, batch, 2)
        targets[recall_p.start:, torch.arange(batch), label] = 1.0
        mask = torch.zeros(T, batch)
        mask[recall_p.start:] = 1.0
        return Trial(x, targets, mask, self.periods(), labels=label)

    def accuracy(self, outputs: torch.Tensor, trial: Trial) -> float:
        """Share of trials whose mean output over the recall picks the side of Eq. (1)."""
        return decision_accuracy(outputs, trial)
