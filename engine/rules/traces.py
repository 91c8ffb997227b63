"""Eligibility traces × learning signals: the shared machinery of e-prop and RFLO, for any architecture that
provides unit locals (``engine.archs.base`` Eqs. 4–6, capability "unit_locals").

Every recurrent weight W_ji (row j: the postsynaptic unit; column i: a presynaptic entry) keeps an *eligibility
trace*, its immediate derivative ē_t (archs.base Eq. 6) low-pass filtered by the unit's own-state Jacobian d_t
(archs.base Eq. 4):

    e_t = d_t ⊙ e_{t−1} + ē_t,       e_0 = 0          ([B, n, m] per trial and parameter block)             (1)

and the rule's gradient is the learning signal (``engine.rules.feedback`` Eq. 1) times the trace, summed over
the trial and the batch:

    ĝ_ji = Σ_b Σ_t L_{t,j} e_{t,ji}                                                                      (2)

This is the general e-prop recipe (Bellec et al. 2020, Eqs. for eligibility vectors with one state variable per
unit). For the rnn (``engine.archs.rnn``) d_t = a = 1 − α for every unit and step and ē_t = c_t ⊗ pre_t with
c_t = α φ'(u_t) and pre_t = [h_{t−1}; x_t; 1] (rnn Eq. 5); for a GRU d_t is the update gate z_t and the blocks are
the gates' parameters. Eqs. (3)–(4) below are written for one leak a; a tensor d_t runs Eqs. (1)–(2) as written.

*What (2) is exactly.* In the graph in which the recurrent input z_{t−1} (what the recurrent weights multiply:
W_rec h_{t−1} in the rnn) is detached while the own-state path keeps its gradient (the rnn's leak a·h_{t−1}), s_t
depends on W_ji only through unit j, and ∂s_{t,j}/∂W_ji obeys Eq. (1). With B = W_outᵀ, L_t is then the error of s_t
through its own readout, so (2) equals autograd through that graph. Dropped: every path by which a weight affects
*other* units through the recurrent weights — the non-local term of RTRL.

*Computing (2) cheaply (``impl="chunked"``).* Updating a [B, n, m] tensor at every step costs several passes over
it per step. Take the steps of a chunk t₀ < t ≤ t₁ = t₀ + K. Unrolling (1) inside the chunk,
e_t = a^{t−t₀} e_{t₀} + Σ_{s=t₀+1}^{t} a^{t−s} c_s ⊗ pre_s; put that into (2) and swap the sums over t and s:

    Σ_{t₀<t≤t₁} L_t ⊙ e_t = e_{t₀} ⊙ Λ  +  Σ_{t₀<s≤t₁} (c_s ⊙ L̃_s) ⊗ pre_s,                                 (3)
        Λ = Σ_{t₀<t≤t₁} a^{t−t₀} L_t,     L̃_s = Σ_{s≤t≤t₁} a^{t−s} L_t

(L̃ is the learning signal filtered backwards inside the chunk). The first term, summed over the batch, is one
elementwise pass over the trace per chunk; the second is one matrix product over
the chunk's K·B rows, read in place from the time-first sweep. The trace then jumps to the chunk end:

    e_{t₁} = a^K e_{t₀} + Σ_{t₀<s≤t₁} a^{t₁−s} c_s ⊗ pre_s                                               (4)

one batched matrix product — skipped after the trial's last chunk, whose end trace nothing reads. Eqs. (3)–(4) are (1)–(2) regrouped — the same numbers, tested to 1e−10 in float64 against
``impl="stepwise"`` (Eqs. 1–2 step by step). The rule stays online: it holds the trace and a K-step buffer,
whatever the trial length (the gradient of a chunk is simply added K steps late). With α = 1 (a = 0) the trace
forgets everything at each step, so (3) needs no carried trace at all. The trace must stay per trial: c and L
differ between the trials of a batch. (For K ≥ T the chunk is the whole trial: the offline limit.)

State (``engine.rules.base`` Eq. 3) — what the algorithm keeps, the same for both implementations and any T:

    fixed_bytes = B·n·m (the trace; 0 at α = 1, where it forgets at once) + B·(m + 3n + O) (one step's pre, c,
                  h, L and ε) + n·O (a stored feedback matrix B, if any),      per_step_bytes = 0               (5)

against BPTT's T·B·2n. The chunked implementation also holds the chunk's steps: its buffer is K·B·(m + 3n + O)
numbers, K ≤ min(chunk, T) the chunk length of Eq. (6) (none for ``impl="stepwise"``). Work per update (``engine.rules.base``, ``work``), with
F = 2·T·B·n·(m + O) the forward pass:

    stepwise: F flops, 4·T·B·n·m elements (passes over the trace every step), calls ≈ 7·T
    chunked:  F + 2·(T + T′)·B·n·m + 2·T·B·O·(n + min(K, 16)) flops (Eq. 3's product over the chunk's rows for
              every step, Eq. 4's for the T′ = (N − 1)·K steps before the last chunk, and Eq. 7's filter of the
              errors with the product by Bᵀ that makes them L̃), 2·(N − 1)·B·n·m
              elements (one pass over the carried trace per chunk after the first), calls ≈ 0.7·T + 4·N        (6)

with N = ⌈T / chunk⌉ chunks of K = ⌈T / N⌉ steps (``chunk_length``: equal chunks, no short tail).

(calls in ``engine.estimate``'s unit, one step of a tiny network forward and backward).
"""

from __future__ import annotations

import inspect
from typing import Any, ClassVar, Iterator, Literal, NamedTuple

import torch
from pydantic import Field

from engine.archs.base import Architecture, Block, UnitLocals
from engine.config import ConfigModel
from engine.rules.base import CreditRule, Pass, Work, block_grads
from engine.rules.feedback import Feedback, FeedbackScale
from engine.tasks.base import Task
from engine.trial import Trial

#: Synapses whose traces ``signals`` shows.
SHOWN = 4
#: Steps per sub-block of the backward filter of the learning signal (Eq. 7).
SUB = 16


class TraceConfig(ConfigModel):
    """Settings shared by the trace rules; each rule adds its own ``feedback`` choice."""

    impl: Literal["chunked", "stepwise"] = "chunked"
    """How the traces are computed: in chunks of steps (fast), or step by step as written (the slow reference).
    Both give the same numbers."""
    chunk: int = Field(128, ge=1, le=4096)
    """Chunked implementation: most steps per chunk (a trial is cut into ⌈T / chunk⌉ equal chunks, Eq. 6). The rule
    holds a buffer of that many steps besides the traces; longer chunks carry the trace across fewer chunk ends
    (Eq. 4), so they cost less time and more buffer."""


class Chunk(NamedTuple):
    """Steps [start, start + k) of a batch, as the forward sweep saw them (no graph): the architecture's
    :class:`~engine.archs.base.UnitLocals`, time first as the architecture returns them (the products of Eqs. 3–4
    read them in place: the chunk's k·B rows are one matrix)."""

    start: int
    own: torch.Tensor | float
    """d_s of Eq. (1) [k, B, n], or the one number a of every unit and step."""
    blocks: list[Block]
    """Eq. (1)'s ē_s by parameter block: post [k, B, n] and pre [k, B, m], or dense [k, B, n, m]."""
    h: torch.Tensor
    """Activity a(s_s) [k, B, n] (what the readout sees)."""
    states: Any
    """The steps' states, time first (for the readout)."""


class EligibilityRule(CreditRule):
    """Eqs. (1)–(4) with the learning signal of ``engine.rules.feedback``. Subclasses set metadata and ``Config``."""

    Config = TraceConfig
    needs = frozenset({"unit_locals"})
    exact = False
    approximates = (
        "With symmetric feedback: autograd through the trial in which the recurrent input (what the recurrent "
        "weights multiply, W_rec·h_{t−1} in the rnn) is detached while the unit's own-state path (the rnn's leak "
        "(1−α)·h_{t−1}, a GRU's gate z·h_{t−1}) keeps its gradient. With random or adaptive feedback: the same graph "
        "with the hidden units' output error sent back through the rule's feedback matrix B instead of W_outᵀ."
    )
    online = True
    #: Variance of a random feedback matrix: 1/n ("hidden") or 1/n_out ("outputs"), feedback Eq. (3).
    feedback_scale: ClassVar[FeedbackScale] = "hidden"
    #: Which diagonal filters the traces in Eq. (1): "own", d_t of archs.base Eq. (4) (e-prop, RFLO), or "diag",
    #: D_t of archs.base Eq. (5) (SnAp-1).
    trace_filter: ClassVar[Literal["own", "diag"]] = "own"
    config: TraceConfig

    def __init__(self, config: TraceConfig, arch: Architecture, generator: torch.Generator):
        super().__init__(config, arch, generator)
        self.feedback = Feedback(getattr(config, "feedback", "symmetric"), arch, generator, getattr(config, "feedback_decay", 0.0),
                                 self.feedback_scale)
        dtype = arch.W_out.dtype
        probe = arch.unit_locals(torch.zeros(1, 1, arch.n_inputs, dtype=dtype), arch.init_state(1))
        self.blocks = [dict(b.columns) for b in probe.blocks]
        own = self._filter_of(probe)
        self.constant_own = not torch.is_tensor(own)
        self.leak = float(own) if self.constant_own else None
        # Shown synapses: the strongest initial weight (of the first parameter of the first block: W_rec in the
        # rnn) of each of the SHOWN units with the strongest ones.
        first = next(iter(self.blocks[0]))
        w = arch.recurrent_parameters()[first].detach().abs().reshape(arch.n_units, -1)
        if first in arch.grad_masks():
            w = w * arch.grad_masks()[first].reshape(w.shape)
        best, cols = w.max(1)
        rows = best.argsort(descending=True)[: min(SHOWN, arch.n_units)]
        self.shown = (rows, cols[rows])
        self._cache: dict[tuple[int, float, torch.dtype], tuple[torch.Tensor, torch.Tensor]] = {}
        # A network that can skip D_t (the rnn: one pass over the chunk less) does, when the traces filter by d_t.
        self._skip_diag = {"diag": False} if (self.trace_filter == "own" and "diag" in
                                              inspect.signature(arch.unit_locals).parameters) else {}

    # -- the forward sweep -------------------------------------------------------------------------------------
    def chunk_length(self, steps: int) -> int:
        """K: the trial in ⌈T / chunk⌉ chunks of equal length (the last one shorter by less than one step per chunk),
        so no chunk is a short tail and every chunk has at most ``chunk`` steps."""
        if self.config.impl == "stepwise":
            return 1
        return -(-steps // -(-steps // self.config.chunk))

    def _sweep(self, trial: Trial, K: int) -> Iterator[Chunk]:
        """Run the network without a graph, K steps at a time, keeping only the unit locals Eqs. (1)–(4) need."""
        arch = self.arch
        state = arch.init_state(trial.batch)
        for t0 in range(0, trial.steps, K):
            loc = arch.unit_locals(trial.inputs[t0:t0 + K], state, **self._skip_diag)
            state = loc.state
            yield Chunk(t0, self._filter_of(loc), loc.blocks, arch.activity(loc.states), loc.states)

    def _filter_of(self, loc: UnitLocals) -> torch.Tensor | float:
        """The diagonal that filters Eq. (1): d_t (``trace_filter`` "own") or D_t ("diag")."""
        return loc.own if self.trace_filter == "own" else loc.diag

    def _errors(self, task: Task, trial: Trial, chunk: Chunk) -> tuple[torch.Tensor, torch.Tensor]:
        """Outputs y and output errors ε = ∂L/∂y of a chunk, both [k, B, O]."""
        y = torch.addmm(self.arch.b_out.detach(), chunk.h.flatten(0, 1), self.arch.W_out.detach().T)
        y = y.view(*chunk.h.shape[:2], -1)
        return y, task.output_error(y, trial, slice(chunk.start, chunk.start + y.shape[0]))

    # -- the gradient --------------------------------------------------------------------------------------------
    def gradients(self, task: Task, trial: Trial) -> tuple[dict[str, torch.Tensor], Pass]:
        # The chunked form (Eqs. 3-4) needs one leak for every unit and step and factored blocks; otherwise the
        # traces run step by step (Eqs. 1-2 as written), in chunks of steps for the sweep.
        stepwise = self.config.impl == "stepwise"
        K = self.chunk_length(trial.steps)
        n, dtype = self.arch.n_units, self.arch.W_out.dtype
        Gs = [torch.zeros(n, sum(cols.values()), dtype=dtype) for cols in self.blocks]
        W_out_grad = torch.zeros_like(self.arch.W_out)
        b_out_grad = torch.zeros_like(self.arch.b_out)
        traces: list[torch.Tensor | None] = [None] * len(self.blocks)
        outs, acts = [], []
        with torch.no_grad():
            for chunk in self._sweep(trial, K):
                y, eps = self._errors(task, trial, chunk)
                L = None
                W_out_grad.addmm_(eps.flatten(0, 1).T, chunk.h.flatten(0, 1))  # base Eq. (2)
                b_out_grad += eps.sum((0, 1))
                last = chunk.start + y.shape[0] >= trial.steps
                for i, (block, G) in enumerate(zip(chunk.blocks, Gs)):
                    if stepwise or not self.constant_own or block.dense is not None:
                        L = self.feedback.signal(eps) if L is None else L  # feedback Eq. (1)
                        traces[i] = self._steps(traces[i], chunk.own, block, L, G)
                    else:
                        traces[i] = self._chunk(traces[i], block.post, block.pre, eps, G, chunk.own, last)
                outs.append(y)
                acts.append(chunk.h)
        grads = block_grads(self.arch, self.blocks, Gs)  # masked
        grads["W_out"], grads["b_out"] = W_out_grad, b_out_grad
        outputs = outs[0] if len(outs) == 1 else torch.cat(outs)
        return grads, Pass(task.loss(outputs, trial), outputs, acts[0] if len(acts) == 1 else torch.cat(acts))

    def _steps(self, trace: torch.Tensor | None, own: torch.Tensor | float, block: Block, L: torch.Tensor,
               G: torch.Tensor) -> torch.Tensor:
        """Eqs. (1)–(2) step by step, as written: the reference for Eqs. (3)–(4), and the form for a leak that
        differs between units or steps (d_s a tensor)."""
        for k in range(L.shape[0]):
            fresh = (block.dense[k] if block.dense is not None
                     else block.post[k].unsqueeze(-1) * block.pre[k].unsqueeze(-2))  # [B, n, m]
            d = own if not torch.is_tensor(own) else own[k].unsqueeze(-1)
            trace = fresh if trace is None else d * trace + fresh  # Eq. (1)
            G += torch.einsum("bn,bnm->nm", L[k], trace)  # Eq. (2)
        return trace

    def _chunk(self, trace: torch.Tensor | None, post: torch.Tensor, pre: torch.Tensor, eps: torch.Tensor,
               G: torch.Tensor, a: float, last: bool) -> torch.Tensor | None:
        """Eqs. (3)–(4) for one chunk and one factored block (post [k, B, n], pre [k, B, m], time first) with one
        leak a and the chunk's output errors ε [k, B, O]; returns the trace [B, n, m] at its end (None while it is
        zero or not needed). The learning signal L = ε Bᵀ (feedback Eq. 1) is linear in ε, so Λ and L̃ of Eq. (3)
        are the errors filtered first (O numbers per step and trial, not n) and sent through Bᵀ after."""
        k, B, O = eps.shape
        n = post.shape[-1]
        powers = self._filters(k, a, G.dtype)[0]
        errors = eps.reshape(k, B * O)
        if trace is not None:  # first term of Eq. (3), summed over the batch
            Lam = self.feedback.signal((powers[1:] @ errors).view(B, O)).unsqueeze(-1)  # Λ [B, n, 1]
            G += (trace * Lam).sum(0)
        L_tilde = self.feedback.signal(self._filter(errors, a).view(k * B, O))  # L̃ of Eq. (3), [k·B, n]
        G.addmm_(L_tilde.mul_(post.reshape(k * B, n)).T, pre.reshape(k * B, -1))  # second term of Eq. (3)
        if last or a == 0.0:
            return None  # nothing follows, or the trace forgets everything: no need to carry it
        weighted = (post * powers[:k].flip(0)[:, None, None]).permute(1, 2, 0)  # a^{t₁−s} c_s as [B, n, k]
        if trace is None:
            return torch.bmm(weighted, pre.transpose(0, 1))  # Eq. (4) from e_{t₀} = 0
        return trace.baddbmm_(weighted, pre.transpose(0, 1), beta=a ** k)  # Eq. (4), in place

    def _filter(self, L: torch.Tensor, a: float) -> torch.Tensor:
        """L̃_s = Σ_{s≤t<k} a^{t−s} L_t for L [k, ·] (Eq. 3), in sub-blocks s₀ ≤ s < s₁ of at most ``SUB`` steps from
        the last one back: a [w, w] product inside each, plus what follows it,

            L̃_s = Σ_{s≤t<s₁} a^{t−s} L_t + a^{s₁−s} L̃_{s₁}                                                     (7)

        so the filter costs about 2·SUB multiply-adds per number instead of 2·k."""
        k = L.shape[0]
        if k <= SUB:
            return self._filters(k, a, L.dtype)[1] @ L
        out, carry = torch.empty_like(L), None
        for s0 in reversed(range(0, k, SUB)):
            w = min(SUB, k - s0)
            powers, filt = self._filters(w, a, L.dtype)
            block = torch.mm(filt, L[s0:s0 + w], out=out[s0:s0 + w])
            if carry is not None:  # Eq. (7): a^{s₁−s} L̃_{s₁}, exponents w … 1
                block.addcmul_(powers[1:].flip(0).unsqueeze(-1), carry.unsqueeze(0))
            carry = block[0]
        return out

    def _filters(self, k: int, a: float, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
        """a^0 … a^k (0^0 = 1 for α = 1) and the [k, k] matrix of L̃ in Eq. (3), a^{t−s} for t ≥ s (cached)."""
        key = (k, a, dtype)
        if key not in self._cache:
            powers = a ** torch.arange(k + 1, dtype=dtype)
            lag = torch.arange(k)
            filt = torch.where(lag[None, :] >= lag[:, None], powers[(lag[None, :] - lag[:, None]).clamp_min(0)], 0.0)
            self._cache[key] = powers, filt
        return self._cache[key]

    # -- lifecycle, display, cost --------------------------------------------------------------------------------
    def apply(self, grads: dict[str, torch.Tensor]) -> None:
        self.feedback.before_update()
        super().apply(grads)

    def after_update(self) -> None:
        self.feedback.after_update()  # feedback Eq. (4) for adaptive feedback

    def feedback_alignment(self) -> float | None:
        """cos(B, W_outᵀ), feedback Eq. (5)."""
        return self.feedback.alignment()

    def signals(self, task: Task, trial: Trial) -> dict[str, torch.Tensor]:
        """For one trial (batch 1): ``learning_signal`` [T, k] of the units that own the shown synapses,
        ``eligibility_trace`` [T, k] of those synapses (Eq. 1, computed for them alone) and, unless feedback is
        symmetric, ``feedback_alignment`` [1] (feedback Eq. 5)."""
        rows, cols = self.shown
        with torch.no_grad():
            (chunk,) = self._sweep(trial, trial.steps)
            _, eps = self._errors(task, trial, chunk)
            L = self.feedback.signal(eps)[:, 0, rows]
            block = chunk.blocks[0]
            if block.dense is not None:
                drive = block.dense[:, 0][:, rows, cols]
            else:
                drive = block.post[:, 0, rows] * block.pre[:, 0, cols]  # ē_t at the shown synapses
            own = chunk.own if not torch.is_tensor(chunk.own) else chunk.own[:, 0, rows]
            e, trace = torch.zeros_like(drive[0]), []
            for t, d in enumerate(drive):
                e = (own if not torch.is_tensor(own) else own[t]) * e + d  # Eq. (1)
                trace.append(e)
        out = {"learning_signal": L, "eligibility_trace": torch.stack(trace)}
        if self.feedback.B is not None:
            fa = self.feedback.alignment()
            out["feedback_alignment"] = torch.tensor([float("nan") if fa is None else fa])
        return out

    def _width(self) -> int:
        """m: presynaptic entries per unit, over all blocks."""
        return sum(sum(cols.values()) for cols in self.blocks)

    def _step_numbers(self, batch: int) -> int:
        """One step's pre, c, h, L and ε for ``batch`` trials: B·(m + 3n + O) numbers."""
        n, m, O = self.arch.n_units, self._width(), self.arch.n_outputs
        return batch * (m + 3 * n + O)

    def memory(self, batch: int) -> tuple[int, int]:
        """Eq. (5)."""
        n, m = self.arch.n_units, self._width()
        trace = batch * n * m if self.leak != 0.0 else 0
        return (trace + self._step_numbers(batch)) * self.itemsize() + self.feedback.state_bytes(), 0

    def buffer_bytes(self, batch: int, steps: int) -> int:
        """The chunk: K = ``chunk_length(T)`` ≤ min(chunk, T) steps of what Eq. (5) keeps for one step (none for
        ``impl="stepwise"``)."""
        if self.config.impl == "stepwise":
            return 0
        return self.chunk_length(steps) * self._step_numbers(batch) * self.itemsize()

    def work(self, batch: int, steps: int) -> Work:
        """Eq. (6)."""
        n, m, O = self.arch.n_units, self._width(), self.arch.n_outputs
        forward = 2.0 * steps * batch * n * (m + O)
        if self.config.impl == "stepwise":
            return Work(forward, 4.0 * steps * batch * n * m, 7.0 * steps)
        K = self.chunk_length(steps)
        chunks = -(-steps // K)
        carried = (chunks - 1) * K  # the steps before the last chunk: Eq. (4) runs over them
        return Work(forward + 2.0 * (steps + carried) * batch * n * m + 2.0 * steps * batch * O * (n + min(K, SUB)),
                    2.0 * batch * n * m * (chunks - 1), 0.7 * steps + 4.0 * chunks)
