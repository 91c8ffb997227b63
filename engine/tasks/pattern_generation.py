"""Pattern generation: produce a fixed periodic signal (Murray 2019, RFLO; the motor task of Bellec et al. 2020).

The target over a trial of T steps is a sum of K sines at harmonic frequencies 1, 2, 4, …, 2^{K−1} cycles per trial,

    y*_t = Σ_{k<K} a_k sin(2π 2^k t / T + φ_k)                                          (1)

With ``amplitudes="fixed"``, a_k = 2^{−k} and φ_k = 0: for K = 3 and T = 100 this is Murray's example
sin(2πt/T) + 0.5 sin(4πt/T) + 0.25 sin(8πt/T). With ``"random"``, a_k ~ U(0.5, 2) and φ_k ~ U(0, 2π) are drawn once
from ``target_seed`` and the sum is scaled to a peak of 1 (as in the e-prop tutorial). The target is the same on
every trial. The network must make time itself, so it gets an input that marks it:

* ``clock``: ``channels`` one-hot channels, channel i on during the i-th of ``channels`` equal slices of the trial;
* ``frozen_noise``: ``channels`` channels of N(0, 1) noise drawn once from ``input_seed`` (the same every trial);
* ``none`` (the default): one silent channel (Murray's zero input). The rnn starts at h_0 = ``h0`` (0 by default),
  so only learned biases and recurrent weights can set it going and shape the pattern; a fixed random network sees
  nothing but the noise below and its readout can only learn a constant (R² ≈ 0).

Independent N(0, ``noise``²) noise is added to the inputs on every trial. Loss: mean squared error at every step.
Accuracy is the variance explained on the judged steps (m = mask, ȳ* the mean judged target), clipped to [0, 1]:

    R² = 1 − Σ m (y − y*)² / Σ m (y* − ȳ*)²                                              (2)

"Right" is graded, not counted: R² = 0.9 means the output's RMS error is √0.1 ≈ 0.32 of the target's standard
deviation, R² = 0.99 means 0.1 of it; a silent (or constant) output scores 0.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from pydantic import Field, model_validator

from engine.config import ConfigModel
from engine.tasks import TASKS
from engine.tasks.base import Task, explained_variance
from engine.trial import Period, Trial


class PatternConfig(ConfigModel):
    steps: int = Field(100, ge=8, le=2000)
    """Trial length T in steps; the target repeats once per trial."""
    sines: int = Field(3, ge=1, le=6)
    """Number K of sines in the target, at 1, 2, 4, … cycles per trial."""
    amplitudes: Literal["fixed", "random"] = "fixed"
    """Fixed: amplitudes 1, ½, ¼, … and zero phases (Murray's target). Random: drawn once from target_seed."""
    target_seed: int = Field(0, ge=0, le=2**31 - 1)
    """Seed of the random amplitudes and phases (ignored when amplitudes are fixed)."""
    input: Literal["clock", "frozen_noise", "none"] = "none"
    """What marks time for the network: nothing (Murray's zero input: the recurrent weights must make the pattern,
    so a fixed random network cannot), a one-hot clock, or frozen noise (both let a fixed network's readout do it)."""
    channels: int = Field(10, ge=1, le=200)
    """Number of input channels for the clock or the frozen noise (ignored for none)."""
    input_seed: int = Field(0, ge=0, le=2**31 - 1)
    """Seed of the frozen noise input (ignored for the other inputs)."""
    noise: float = Field(0.05, ge=0.0, le=5.0)
    """Standard deviation of fresh Gaussian noise added to the inputs on every trial (0: identical trials)."""

    @model_validator(mode="after")
    def _resolvable(self) -> "PatternConfig":
        fastest = 2 ** (self.sines - 1)
        if self.steps < 4 * fastest:
            raise ValueError(f"steps ({self.steps}) must be at least {4 * fastest} for sines={self.sines}: "
                             "the fastest sine needs 4 steps per cycle")
        if self.input == "clock" and self.channels > self.steps:
            raise ValueError(f"a clock cannot have more channels ({self.channels}) than steps ({self.steps})")
        return self


@TASKS.register("pattern_generation")
class PatternGeneration(Task):
    Config = PatternConfig
    description = "Produce a fixed sum of sines over the trial, timed by a clock or frozen-noise input."
    reference = "Murray 2019, eLife 8:e43299; Bellec et al. 2020, Nat. Commun. 11:3625"
    loss_kind = "mse"
    accuracy_note = ("A regression task: \"right\" is the variance of the target pattern the output explains "
                     "(R², 0 to 100 %), not a share of trials; there is no chance level.")
    config: PatternConfig

    @property
    def n_inputs(self) -> int:
        return 1 if self.config.input == "none" else self.config.channels

    @property
    def n_outputs(self) -> int:
        return 1

    def target(self) -> torch.Tensor:
        """The target of Eq. (1), [T]."""
        c = self.config
        k = torch.arange(c.sines, dtype=torch.float64)
        if c.amplitudes == "fixed":
            amp, phase = 0.5 ** k, torch.zeros(c.sines, dtype=torch.float64)
        else:
            g = torch.Generator().manual_seed(c.target_seed)
            amp = 0.5 + 1.5 * torch.rand(c.sines, generator=g, dtype=torch.float64)
            phase = 2 * math.pi * torch.rand(c.sines, generator=g, dtype=torch.float64)
        t = torch.arange(c.steps, dtype=torch.float64)[:, None]
        y = (amp * torch.sin(2 * math.pi * 2**k * t / c.steps + phase)).sum(-1)
        return y / y.abs().max() if c.amplitudes == "random" else y

    def base_input(self) -> torch.Tensor:
        """The input shared by every trial, [T, I] (before the per-trial noise)."""
        c = self.config
        if c.input == "none":
            return torch.zeros(c.steps, 1)
        if c.input == "clock":
            slot = torch.arange(c.steps) * c.channels // c.steps
            return torch.nn.functional.one_hot(slot, c.channels).float()
        return torch.randn(c.steps, c.channels, generator=torch.Generator().manual_seed(c.input_seed))

    def sample(self, batch: int, generator: torch.Generator) -> Trial:
        c = self.config
        x = self.base_input()[:, None, :].repeat(1, batch, 1)
        if c.noise > 0:
            x = x + c.noise * torch.randn(x.shape, generator=generator)
        targets = self.target().float()[:, None, None].expand(c.steps, batch, 1).clone()
        mask = torch.ones(c.steps, batch)
        return Trial(x, targets, mask, [Period("pattern", 0, c.steps)])

    def accuracy(self, outputs: torch.Tensor, trial: Trial) -> float:
        """Variance explained, Eq. (2)."""
        return explained_variance(outputs, trial)
