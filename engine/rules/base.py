"""CreditRule: how a rule turns one batch of trials into a gradient.

Every rule computes, for the current parameters θ and one batch, an estimate ĝ of the true gradient

    g = ∂L/∂θ,   L = the task loss of Eq. (1) in ``engine.tasks.base``,                          (1)

and writes it into ``.grad``; a stock ``torch.optim`` optimizer applies it. A rule is *exact* (ĝ = g: BPTT, RTRL,
truncated BPTT with a window ≥ T) or an *approximation*, in which case ``approximates`` names the exact computation
it equals (e.g. "autograd with the recurrent input detached") and a test proves that equality.

The readout y_t = W_out a_t + b_out is not recurrent, so every rule can use its exact gradient

    ∂L/∂W_out = Σ_t ε_t a_tᵀ,   ∂L/∂b_out = Σ_t ε_t,   ε_t = ∂L/∂y_t                              (2)

(:func:`readout_grads`); rules differ in how credit reaches the recurrent parameters.

Lifecycle: ``gradients(task, trial)`` returns the gradients and a :class:`Pass` (what the network did, for metrics
and plots); ``apply`` writes them to ``.grad``; ``after_update`` runs once the optimizer has stepped (for rules with
state of their own, such as adaptive feedback weights).

Cost. ``memory(batch)`` is the *algorithm's* state for one batch — what the rule must keep while it processes the
trials to produce its update — split into a part that does not grow with the trial length T ("per synapse": traces,
influence matrix, the current state) and a part that does ("per time step": BPTT's stored trajectory):

    state_bytes(B, T) = fixed_bytes(B) + per_step_bytes(B) · T                                     (3)

Each rule documents its own two terms with an equation number. Not counted, for every rule alike: the parameters,
the gradient being summed (one number per parameter), the trial's inputs and targets. ``buffer_bytes(B, T)`` is
the *implementation's* extra working memory (e.g. the chunk of steps of the fast e-prop), reported apart.

Time. ``work(B, T)`` counts what one update asks of the machine, for ``engine.estimate``: matrix-product arithmetic
(flops), numbers passed through elementwise operations, and tensor operations issued (each has a fixed overhead,
which dominates small networks). The counts are rough — to a factor of about 2 — which is enough to tell a 10 ms
update from a 10 s one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, NamedTuple

import torch
from torch import nn

from engine.archs.base import Architecture
from engine.config import ConfigModel
from engine.tasks.base import Task
from engine.trial import Trial


@dataclass
class Pass:
    """What one batch did: the loss, outputs [T, B, O], activity [T, B, n] (all detached) and any signals the rule
    wants shown (name → tensor with time first, e.g. a learning signal [T, B, n])."""

    loss: torch.Tensor
    outputs: torch.Tensor
    activity: torch.Tensor
    signals: dict[str, torch.Tensor] = field(default_factory=dict)


class Work(NamedTuple):
    """What one update asks of the machine (``CreditRule.work``)."""

    flops: float
    """Arithmetic in matrix products."""
    elements: float
    """Numbers read or written by elementwise passes over large tensors."""
    calls: float
    """Tensor operations issued, in units of one time step of a tiny network forward and backward (about ten
    operations each way, ``engine.estimate``)."""


class SupportedArchitectures:
    """``CreditRule.supports``: the registered architectures whose ``provides`` covers the rule's ``needs``, computed
    when read, so an architecture registered later is picked up."""

    def __get__(self, obj: object, owner: type[CreditRule]) -> frozenset[str]:
        from engine.archs import ARCHS

        return frozenset(name for name, arch in ARCHS if owner.needs <= arch.provides)


class CreditRule:
    """Base class. Subclasses set the class attributes and write :meth:`gradients`."""

    name: ClassVar[str]
    Config: ClassVar[type[ConfigModel]] = ConfigModel
    description: ClassVar[str] = ""
    reference: ClassVar[str] = ""
    needs: ClassVar[frozenset[str]] = frozenset()
    """Capabilities (``engine.archs.base.CAPABILITIES``) the rule needs from a network."""
    supports: ClassVar[frozenset[str]] = SupportedArchitectures()  # type: ignore[assignment]
    """Names of the registered architectures that provide every capability in ``needs`` (derived, read-only in
    spirit: set ``needs``, not this)."""
    exact: ClassVar[bool] = False
    approximates: ClassVar[str] = ""
    """For an approximation: the exact computation it equals, proven in a test."""
    online: ClassVar[bool] = False
    """True if the rule runs forward in time without storing the trial's past."""
    stochastic: ClassVar[bool] = False
    """True if each update is a random estimate (fresh noise every batch) that is right only on average: the page
    then shows the spread of its alignment with BPTT's gradient, not just the line."""

    def __init__(self, config: ConfigModel, arch: Architecture, generator: torch.Generator):
        self.config = config
        self.arch = arch
        self.generator = generator

    def trainable(self) -> dict[str, nn.Parameter]:
        """The parameters this rule changes (the optimizer sees only these)."""
        return dict(self.arch.named_parameters())

    def gradients(self, task: Task, trial: Trial) -> tuple[dict[str, torch.Tensor], Pass]:
        raise NotImplementedError

    def apply(self, grads: dict[str, torch.Tensor]) -> None:
        """Write ``grads`` into ``.grad`` of the trainable parameters, honouring the architecture's masks."""
        masks = self.arch.grad_masks()
        for name, p in self.trainable().items():
            g = grads[name]
            p.grad = (g * masks[name] if name in masks else g).detach().clone()

    def signals(self, task: Task, trial: Trial) -> dict[str, torch.Tensor]:
        """What the rule wants shown for one example trial (batch 1), e.g. ``learning_signal`` [T, n] or
        ``eligibility_trace`` [T, k] for a few synapses. Default: nothing."""
        return {}

    def after_update(self) -> None:
        """Called once the optimizer has applied the update."""

    def memory(self, batch: int) -> tuple[int, int]:
        """(fixed_bytes, per_step_bytes) of Eq. (3) for ``batch`` trials."""
        raise NotImplementedError

    def state_bytes(self, batch: int, steps: int) -> int:
        """Eq. (3): the algorithm's state for ``batch`` trials of ``steps`` steps."""
        fixed, per_step = self.memory(batch)
        return fixed + per_step * steps

    def buffer_bytes(self, batch: int, steps: int) -> int:
        """The implementation's working buffer beyond Eq. (3), at most what ``steps`` steps need. Default: none."""
        return 0

    def work(self, batch: int, steps: int) -> Work:
        """What one update costs (``engine.estimate``). Default: BPTT's count, Eq. (4)."""
        return bptt_work(self.arch, batch, steps)

    def check(self, batch: int, steps: int) -> None:
        """Raise ``ValueError`` (saying why and what to change) if this rule cannot afford a run of ``batch``
        trials of ``steps`` steps — before anything large is allocated. Default: every size is fine."""

    def itemsize(self) -> int:
        return self.arch.W_out.element_size()


def readout_grads(errors: torch.Tensor, activity: torch.Tensor) -> dict[str, torch.Tensor]:
    """Eq. (2): exact readout gradients from output errors ε [T, B, O] and activity a [T, B, n]."""
    return {
        "W_out": torch.einsum("tbo,tbn->on", errors, activity),
        "b_out": errors.sum((0, 1)),
    }


def block_grads(arch: Architecture, columns: list[dict[str, int]], grads: list[torch.Tensor]) -> dict[str, torch.Tensor]:
    """Cut each parameter block's [S, m] gradient (``engine.archs.base.Block``: its parameters' columns side by side)
    into the parameters, masking absent synapses (``grad_masks``)."""
    params, masks, out = arch.recurrent_parameters(), arch.grad_masks(), {}
    for cols, G in zip(columns, grads):
        start = 0
        for name, width in cols.items():
            g = G[:, start:start + width].reshape(params[name].shape).clone()
            out[name] = g * masks[name] if name in masks else g
            start += width
    return out


def bptt_work(arch: Architecture, batch: int, steps: int, calls_per_step: float = 2.2) -> Work:
    """The forward pass costs about 2·B·(P + n·O) flops per step (one multiply-add per parameter and trial), and
    backpropagating it about twice that; the operations issued per step (about 15 forward, with their backward
    nodes, the readout and the loss) come to about 2 of ``engine.estimate``'s tiny-network steps:

        flops ≈ 6 · T · B · (P + n·O),     calls ≈ 2.2 · T,     P = number of recurrent parameters        (4)
    """
    P = sum(p.numel() for p in arch.recurrent_parameters().values())
    return Work(6.0 * steps * batch * (P + arch.n_units * arch.n_outputs), 0.0, calls_per_step * steps)


def state_size(arch: Architecture) -> int:
    """Number of state variables per trial (S of ``Architecture.jacobians``)."""
    return arch.flatten(arch.init_state(1)).shape[-1]
