"""Task: a generator of trials, a loss and an accuracy.

A task declares a ``Config`` (a :class:`~engine.config.ConfigModel`, one docstring per field), class-level
metadata (``description`` in one line, ``reference``, ``network``: its own defaults for network settings), and:

* ``n_inputs`` / ``n_outputs`` for its configuration,
* ``sample(batch, generator) -> Trial``, drawing every random number from the given ``torch.Generator``,
* ``loss_kind``: ``"mse"`` or ``"xent"``. The loss of a batch is the masked mean of per-step terms

      L = Σ_{t,b} m_{t,b} ℓ(y_{t,b}, y*_{t,b}) / Σ_{t,b} m_{t,b}                        (1)

  with ℓ = ½‖y − y*‖² for ``mse`` and ℓ = −Σ_k y*_k log softmax(y)_k for ``xent``. Because (1) is a sum over
  steps, an online rule can compute ∂L/∂y_t at step t from that step's output alone (:meth:`Task.output_error`).
  With N = Σ_{t,b} m_{t,b} it has a closed form, per step and trial:

      xent:  ∂L/∂y_{t,b} = (m_{t,b}/N) · (softmax(y_{t,b}) · Σ_k y*_{t,b,k} − y*_{t,b})                (2)
      mse:   ∂L/∂y_{t,b} = (m_{t,b}/N) · (y_{t,b} − y*_{t,b})                                          (3)

* ``accuracy(outputs, trial) -> float`` in [0, 1], the task's own notion of "right".

Display metadata (shown by the page, exposed by :func:`engine.catalog.catalog`):

* ``chance``: the accuracy of guessing (e.g. 0.5 for a yes/no decision), ``None`` for a regression task, where
  "right" is a tolerance or a variance explained and guessing has no single rate,
* ``accuracy_note``: one sentence saying what counts as "right",
* ``loss_floors``: losses that mark what the network has learned, ``[{"value": float, "label": str}]``.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import torch
import torch.nn.functional as F

from engine.config import ConfigModel
from engine.trial import Trial


class Task:
    """Base class; subclasses fill ``Config``, the metadata, ``n_inputs``, ``n_outputs``, ``sample``, ``accuracy``."""

    name: ClassVar[str]
    Config: ClassVar[type[ConfigModel]] = ConfigModel
    description: ClassVar[str] = ""
    reference: ClassVar[str] = ""
    loss_kind: ClassVar[Literal["mse", "xent"]] = "mse"
    #: The task's defaults for network settings (e.g. ``{"alpha": 0.5}``), used where the run does not set them.
    network: ClassVar[dict[str, Any]] = {}
    chance: ClassVar[float | None] = None
    accuracy_note: ClassVar[str] = ""
    loss_floors: ClassVar[list[dict[str, float | str]]] = []

    def __init__(self, config: ConfigModel):
        self.config = config

    @property
    def n_inputs(self) -> int:
        raise NotImplementedError

    @property
    def n_outputs(self) -> int:
        raise NotImplementedError

    def sample(self, batch: int, generator: torch.Generator) -> Trial:
        raise NotImplementedError

    def accuracy(self, outputs: torch.Tensor, trial: Trial) -> float:
        raise NotImplementedError

    # -- loss, shared by every task -------------------------------------------------------------------------
    def step_loss(self, y: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Per-element loss term ℓ of Eq. (1) for outputs ``y`` [..., O]; returns [...]."""
        if self.loss_kind == "xent":
            return -(target * F.log_softmax(y, dim=-1)).sum(-1)
        return 0.5 * ((y - target) ** 2).sum(-1)

    def loss(self, outputs: torch.Tensor, trial: Trial) -> torch.Tensor:
        """Eq. (1) over a whole batch of outputs [T, B, O]."""
        terms = self.step_loss(outputs, trial.targets)
        return (terms * trial.mask).sum() / trial.mask.sum().clamp_min(1e-12)

    def output_error(self, y_t: torch.Tensor, trial: Trial, t: int | slice) -> torch.Tensor:
        """∂L/∂y at step(s) ``t`` (Eq. 1), computed from those steps' outputs alone; shape of ``y_t``. In closed
        form (Eqs. 2–3) for the two losses of ``step_loss``; by autograd (:meth:`output_error_autograd`) for a task
        that writes its own ``step_loss``."""
        if type(self).step_loss is not Task.step_loss:
            return self.output_error_autograd(y_t, trial, t)
        y = y_t.detach()
        target = trial.targets[t]
        weight = (trial.mask[t] / trial.mask.sum().clamp_min(1e-12)).unsqueeze(-1)
        if self.loss_kind == "xent":  # Eq. (2)
            return weight * (torch.softmax(y, -1) * target.sum(-1, keepdim=True) - target)
        return weight * (y - target)  # Eq. (3)

    def output_error_autograd(self, y_t: torch.Tensor, trial: Trial, t: int | slice) -> torch.Tensor:
        """``output_error`` by differentiating Eq. (1) with autograd: the reference for Eqs. (2)–(3)."""
        y = y_t.detach().requires_grad_(True)
        with torch.enable_grad():
            terms = self.step_loss(y, trial.targets[t]) * trial.mask[t]
            (g,) = torch.autograd.grad(terms.sum() / trial.mask.sum().clamp_min(1e-12), y)
        return g


def decision_accuracy(outputs: torch.Tensor, trial: Trial) -> float:
    """Share of trials whose masked-mean output picks the right class (``trial.labels``)."""
    assert trial.labels is not None, "decision_accuracy needs trial.labels"
    m = trial.mask.unsqueeze(-1)
    mean = (outputs * m).sum(0) / m.sum(0).clamp_min(1e-12)
    return (mean.argmax(-1) == trial.labels).double().mean().item()


def explained_variance(outputs: torch.Tensor, trial: Trial) -> float:
    """R² = 1 − Σ m (y − y*)² / Σ m (y* − ȳ*)² over the masked steps of every trial and output, clipped to
    [0, 1]: the share of the target's variance the network explains."""
    w = trial.mask.unsqueeze(-1)  # [T, B, 1]
    mean = (trial.targets * w).sum((0, 1)) / w.sum().clamp_min(1e-12)  # [O]
    resid = (w * (outputs - trial.targets) ** 2).sum()
    spread = (w * (trial.targets - mean) ** 2).sum()
    if spread.item() <= 1e-12:
        return 1.0 if resid.item() <= 1e-12 else 0.0
    return float((1 - resid / spread).clamp(0.0, 1.0).item())
