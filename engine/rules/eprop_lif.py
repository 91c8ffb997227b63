"""e-prop for the spiking network ``lif`` (Bellec et al. 2020, Nat Commun 11:3625): LIF and ALIF eligibility traces,
a readout-filtered trace, a learning signal broadcast from the output, and the rate regulariser's own term.

Each neuron j has a hidden state h_j = (v_j, a_j) (``engine.archs.lif`` Eqs. 1–3). e-prop keeps, at every synapse
W_ji (i a recurrent neuron or an input), the *eligibility vector* ε_ji^t = dh_j^t/dW_ji computed through neuron j's
own dynamics only. With pre_t = [z_{t−1}; x̂_t] (lif Eqs. 3, 9) and ψ the pseudo-derivative (lif Eq. 8):

    ε̄_t = α ε̄_{t−1} + pre_t                           (the membrane part; the same for every neuron j)       (1)
    ε^a_{ji,t} = (ρ − β_j ψ_{j,t−1}) ε^a_{ji,t−1} + ψ_{j,t−1} ε̄_{i,t−1}      (adaptive neurons only)          (2)
    e_{ji,t} = ψ_{j,t} (ε̄_{i,t} − β_j ε^a_{ji,t})      (the eligibility trace; for a LIF neuron ψ_j ε̄_i)      (3)

(ρ − β ψ is ∂a_t/∂a_{t−1} through the neuron's own spike, ψ_{t−1} is ∂a_t/∂v_{t−1}.) The readout is leaky, so the
trace is filtered with its time constant, and the gradient is the learning signal times the filtered trace:

    ē_t = κ ē_{t−1} + (1 − κ) e_t                                                                              (4)
    L_t = B ε_t,  ε_t = ∂L/∂y_t   (``engine.rules.feedback`` Eq. 1: symmetric, random or adaptive B)            (5)
    ĝ_ji = Σ_b Σ_t L_{j,t} ē_{ji,t}  +  r_j Σ_b Σ_t e_{ji,t}                                                   (6)

where r_j = ∂E_reg/∂z_j (lif Eq. 11, the same for every step) is the regulariser's learning signal. The readout
gets its exact gradient (``engine.rules.base`` Eq. 2) with activity zf.

*What (6) is exactly.* With symmetric feedback, (6) is autograd through the trial in which the spikes sent through W
(lif Eq. 3, W z_{t−1}) are detached: each neuron's own adaptation and reset paths and the readout are kept, credit
never passes from one neuron to another. And with the *true* learning signal L*_{j,t} = dE/dz_{j,t} — the total
derivative through the readout and the recurrent weights, not through j's own adaptation — Σ_t L*_t e_t is the BPTT
gradient (the factorisation of the e-prop paper; both are proven in the tests, the second with κ = 0 as in
:meth:`EpropLIF.factorised`).

*Computing (6) in chunks.* Stepping a [B, n, m] trace costs several passes over it per step. For the steps
t₀ < s ≤ t₁ = t₀ + K of a chunk, unroll Eqs. (2) and (4) from the carried ε^a_{t₀}, ē_{t₀} and swap the sums:

    Σ_t L_t ē_t = Λ ⊙ ē_{t₀} + Σ_s M_s e_s,    Λ = Σ_t κ^{t−t₀} L_t,   M_s = (1 − κ) Σ_{s≤t≤t₁} κ^{t−s} L_t     (7)
    Σ_s c_s ε^a_s = (d_{t₀+1} λ_{t₀+1}) ⊙ ε^a_{t₀} + Σ_s λ_s ψ_{s−1} ⊗ ε̄_{s−1},
        d_s = ρ − β ψ_{s−1},   λ_s = c_s + d_{s+1} λ_{s+1},  λ_{t₁+1} = 0                                     (8)

for any per-neuron coefficient c_s (here β M_s ψ_s, and β ψ_s for the regulariser). Each sum over s is one matrix
product over the chunk's B·K rows; λ is a backward recursion over [B, n] numbers. The carried traces jump to the
chunk's end by Eqs. (2) and (4) unrolled the same way (one batched product each). These are Eqs. (1)–(6)
regrouped: the same numbers for every K (tested for K = 1, a few steps, the whole trial). The rule stays online: it
holds the traces and a K-step buffer whatever the trial length (a chunk's gradient is added K steps late).

State (``engine.rules.base`` Eq. 3):

    fixed_bytes = B·m (ε̄) + B·n_a·m (ε^a) + B·n·m (ē, 0 when κ = 0) + B·(m + 5n + O) (one step) + n·O (B),
    per_step_bytes = 0                                                                                          (9)

with m = n + inputs and n_a the adaptive neurons; the chunk buffer is min(K, T)·B·(2m + 4n + O) numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator, Literal

import torch
from pydantic import Field

from engine.archs.lif import LIF
from engine.archs.lif_trial import _psi, forward_steps, rest
from engine.config import ConfigModel
from engine.rules import RULES
from engine.rules.base import CreditRule, Pass, Work
from engine.rules.feedback import Feedback
from engine.tasks.base import Task
from engine.trial import Trial

#: Synapses whose traces ``signals`` shows.
SHOWN = 4


class EpropLIFConfig(ConfigModel):
    feedback: Literal["symmetric", "random", "adaptive"] = "random"
    """How the output error reaches the neurons: W_outᵀ (symmetric), a fixed random matrix (random, the e-prop
    paper's biologically plausible choice), or a random matrix that receives W_out's updates (adaptive)."""
    feedback_decay: float = Field(0.01, ge=0.0, le=1.0)
    """Adaptive feedback only: weight decay of both the feedback matrix and W_out at every update."""
    chunk: int = Field(64, ge=1, le=4096)
    """Steps per chunk of the computation (Eqs. 7–8): the rule holds a buffer of this many steps besides the traces.
    Any value gives the same numbers."""


@dataclass
class Chunk:
    """Steps [start, start + k) of a batch as the forward sweep saw them (no graph), batch first."""

    start: int
    eb: torch.Tensor
    """ε̄_s of Eq. (1) [B, k, m]."""
    eb_prev: torch.Tensor
    """ε̄_{s−1} [B, k, m]."""
    psi: torch.Tensor
    """ψ_s [B, k, n]."""
    psi_prev: torch.Tensor
    """ψ_{s−1} [B, k, n]."""
    zf: torch.Tensor
    """Readout-filtered spikes [B, k, n]."""
    z: torch.Tensor
    """Spikes [B, k, n]."""
    W: torch.Tensor
    """The recurrent matrix the sweep used [n, n]."""


@dataclass
class Traces:
    """What the rule carries from one chunk to the next, and what it sums."""

    G: torch.Tensor
    """Σ of Eq. (6), first term, so far [n, m]."""
    S: torch.Tensor | None
    """Σ_b Σ_t e_t so far [n, m] (the regulariser's term), None without a regulariser."""
    ea: torch.Tensor | None = None
    """ε^a of Eq. (2) at the chunk boundary [B, n_a, m] (None while zero)."""
    ebar: torch.Tensor | None = None
    """ē of Eq. (4) at the chunk boundary [B, n, m] (None while zero)."""


@RULES.register("eprop_lif")
class EpropLIF(CreditRule):
    Config = EpropLIFConfig
    description = ("e-prop for spiking neurons: LIF/ALIF eligibility traces filtered like the leaky readout, times "
                   "the output error broadcast through feedback weights.")
    reference = "Bellec et al. 2020, Nat Commun 11:3625"
    needs = frozenset({"spiking"})
    #: The rule ``eprop`` on a spiking network runs this class (``engine.spec.implementation``).
    variant_of = "eprop"
    exact = False
    approximates = (
        "With symmetric feedback: autograd through the trial with the spikes sent through the recurrent weights "
        "detached (each neuron's own reset, adaptation and readout paths kept). With the true dE/dz as learning "
        "signal the same traces give the BPTT gradient.")
    online = True
    config: EpropLIFConfig
    arch: LIF

    def __init__(self, config: EpropLIFConfig, arch: LIF, generator: torch.Generator):
        super().__init__(config, arch, generator)
        self.feedback = Feedback(config.feedback, arch, generator, config.feedback_decay, "hidden")
        self.adaptive_index = arch.adaptive.nonzero().flatten()
        w = arch.recurrent_weights().detach().abs()
        best, cols = w.max(1)
        rows = best.argsort(descending=True)[: min(SHOWN, arch.n_units)]
        self.shown = (rows, cols[rows])

    # -- the forward sweep ---------------------------------------------------------------------------------------
    def _sweep(self, trial: Trial, K: int) -> Iterator[Chunk]:
        """lif Eqs. (1)–(6) without a graph, K steps at a time (``engine.archs.lif_trial.forward_steps``), with ψ
        (lif Eq. 8) for the chunk at once and ε̄ (Eq. 1)."""
        arch, B, c = self.arch, trial.batch, self.arch.config
        with torch.no_grad():
            W = arch.recurrent_weights().detach()
            W_T = W.T
            carry = rest(arch, B, W)
            eb = torch.zeros(B, arch.n_units + arch.n_inputs, dtype=W.dtype)
            psi = torch.zeros(B, 1, arch.n_units, dtype=W.dtype)
            x_all = arch.encode_all(trial.inputs)  # lif Eq. (9); an online version draws them step by step
            for t0 in range(0, trial.steps, K):
                x_hat = x_all[t0:t0 + K]
                k, z_before, eb_before, psi_before = x_hat.shape[0], carry.z, eb, psi
                Z, ZF, U, free, carry = forward_steps(arch, x_hat @ arch.W_in.detach().T, W_T, carry)
                psi = _psi(U, free, c.v_th, c.gamma).transpose(0, 1).contiguous()  # [B, k, n]
                pre = torch.cat([torch.cat([z_before[None], Z[:-1]]), x_hat], -1)  # [z_{t−1}; x̂_t]
                ebs = W.new_empty(B, k, eb.shape[-1])
                for s in range(k):
                    eb = torch.add(pre[s], eb, alpha=arch.alpha, out=ebs[:, s])  # Eq. (1)
                ebs_prev = torch.cat([eb_before[:, None], ebs[:, :-1]], 1)
                psis_prev = torch.cat([psi_before, psi[:, :-1]], 1)
                yield Chunk(t0, ebs, ebs_prev, psi, psis_prev, ZF.transpose(0, 1).contiguous(),
                            Z.transpose(0, 1).contiguous(), W)
                psi = psi[:, -1:]
                eb = eb.clone()

    # -- Eqs. (7)-(8) --------------------------------------------------------------------------------------------
    def _accumulate(self, acc: Traces, ch: Chunk, L: torch.Tensor, kappa: float, last: bool) -> None:
        """Add one chunk's part of Eq. (6) to ``acc`` for learning signal L [B, k, n] and readout filter κ, and move
        the carried traces to the chunk's end (unless it is the last)."""
        B, k, n = L.shape
        m = ch.eb.shape[-1]
        powers = kappa ** torch.arange(k + 1, dtype=L.dtype)  # κ^0 … κ^k
        M = L if kappa == 0 else (1 - kappa) * _backward_filter(L, kappa)  # Eq. (7)
        if acc.ebar is not None:
            acc.G += torch.einsum("bn,bnm->nm", (L * powers[1:, None]).sum(1), acc.ebar)  # Λ ⊙ ē_{t₀}
        Mpsi = M * ch.psi
        rows_eb = ch.eb.reshape(B * k, m)
        acc.G += Mpsi.reshape(B * k, n).T @ rows_eb  # Σ M ψ ε̄ (LIF part of Eq. 3)
        if acc.S is not None:
            acc.S += ch.psi.reshape(B * k, n).T @ rows_eb
        carry_ebar = not last and kappa > 0
        weights = ((1 - kappa) * powers[:k].flip(0))[:, None] * ch.psi if carry_ebar else None  # (1−κ)κ^{t₁−s} ψ_s
        ebar = None
        if carry_ebar:
            ebar = torch.bmm(weights.transpose(1, 2), ch.eb)  # Eq. (4) unrolled, LIF part
            if acc.ebar is not None:
                ebar.add_(acc.ebar, alpha=powers[k].item())
        ad = self.adaptive_index
        if len(ad):
            beta = self.arch.beta[ad]
            d = self.arch.rho - beta * ch.psi_prev[..., ad]  # d_s of Eq. (8) [B, k, na]
            coefs = [beta * Mpsi[..., ad]]
            if acc.S is not None:
                coefs.append(beta * ch.psi[..., ad])
            if carry_ebar:
                coefs.append(beta * weights[..., ad])
            lam = _adjoint(torch.stack(coefs), d)  # λ of Eq. (8) [q, B, k, na]
            src = lam * ch.psi_prev[..., ad]  # λ_s ψ_{s−1}
            rows_prev = ch.eb_prev.reshape(B * k, m)
            first = d[:, 0] * lam[:, :, 0]  # d_{t₀+1} λ_{t₀+1} [q, B, na]
            parts = []
            for q in range(len(coefs) - carry_ebar):  # batch-summed parts (the ē carry's stays per trial)
                part = src[q].reshape(B * k, -1).T @ rows_prev
                if acc.ea is not None:
                    part += torch.einsum("bn,bnm->nm", first[q], acc.ea)
                parts.append(part)
            acc.G[ad] -= parts[0]  # −β Σ M ψ ε^a (Eq. 3)
            if acc.S is not None:
                acc.S[ad] -= parts[1]
            if carry_ebar:
                assert ebar is not None
                sub = torch.bmm(src[-1].transpose(1, 2), ch.eb_prev)
                if acc.ea is not None:
                    sub += first[-1].unsqueeze(-1) * acc.ea
                ebar[:, ad] -= sub
            if not last:  # Eq. (2) unrolled to the chunk's end: ε^a_{t₁} = D ε^a_{t₀} + Σ_s P_s ψ_{s−1} ε̄_{s−1}
                P = torch.ones_like(d)
                if k > 1:
                    P[:, :-1] = d[:, 1:].flip(1).cumprod(1).flip(1)
                ea = torch.bmm((P * ch.psi_prev[..., ad]).transpose(1, 2), ch.eb_prev)
                if acc.ea is not None:
                    ea += (d[:, 0] * P[:, 0]).unsqueeze(-1) * acc.ea
                acc.ea = ea
        acc.ebar = ebar

    # -- the gradient ----------------------------------------------------------------------------------------------
    def _recurrent(self, trial: Trial, K: int, signal: Callable[[Chunk], torch.Tensor], kappa: float,
                   regulariser: bool) -> tuple[dict[str, torch.Tensor], torch.Tensor, torch.Tensor]:
        """Eq. (6) for the learning signal ``signal(chunk)`` [B, k, n]; returns the recurrent parameters' gradients
        and the spikes and readout-filtered spikes [T, B, n] of the sweep."""
        arch = self.arch
        n, m = arch.n_units, arch.n_units + arch.n_inputs
        dtype = arch.W_rec.dtype
        acc = Traces(torch.zeros(n, m, dtype=dtype), torch.zeros(n, m, dtype=dtype) if regulariser else None)
        spikes, filtered = [], []
        W = None
        with torch.no_grad():
            for ch in self._sweep(trial, K):
                last = ch.start + ch.psi.shape[1] >= trial.steps
                self._accumulate(acc, ch, signal(ch), kappa, last)
                spikes.append(ch.z)
                filtered.append(ch.zf)
                W = ch.W
        Z = torch.cat(spikes, 1).transpose(0, 1)
        ZF = torch.cat(filtered, 1).transpose(0, 1)
        G = acc.G
        if acc.S is not None:  # Eq. (6), second term
            G = G + arch.rate_signal_from_counts(Z.sum((0, 1)), trial.steps, trial.batch)[:, None] * acc.S
        return self._split(G, W), Z, ZF

    def _split(self, G: torch.Tensor, W: torch.Tensor | None) -> dict[str, torch.Tensor]:
        """The [n, m] gradient cut into W_rec (through W's parametrisation, lif Eq. 10, and its mask) and W_in."""
        n = self.arch.n_units
        with torch.enable_grad():
            (g_rec,) = torch.autograd.grad(self.arch.recurrent_weights(), self.arch.W_rec, G[:, :n])
        return {"W_rec": g_rec, "W_in": G[:, n:].clone()}

    def _signal(self, task: Task, trial: Trial, outs: list[torch.Tensor], g_out: dict[str, torch.Tensor]
                ) -> Callable[[Chunk], torch.Tensor]:
        """Eq. (5) for a chunk; collects the outputs and the readout's gradient on the way."""
        arch = self.arch

        def signal(ch: Chunk) -> torch.Tensor:
            y = ch.zf @ arch.W_out.detach().T + arch.b_out.detach()
            steps = slice(ch.start, ch.start + y.shape[1])
            eps = task.output_error(y.transpose(0, 1), trial, steps).transpose(0, 1)
            g_out["W_out"] += eps.flatten(0, 1).T @ ch.zf.flatten(0, 1)  # base Eq. (2)
            g_out["b_out"] += eps.sum((0, 1))
            outs.append(y)
            return self.feedback.signal(eps)

        return signal

    def gradients(self, task: Task, trial: Trial) -> tuple[dict[str, torch.Tensor], Pass]:
        outs: list[torch.Tensor] = []
        g_out = {"W_out": torch.zeros_like(self.arch.W_out), "b_out": torch.zeros_like(self.arch.b_out)}
        grads, Z, activity = self._recurrent(trial, self.config.chunk, self._signal(task, trial, outs, g_out),
                                   self.arch.kappa, self.arch.config.rate_reg > 0)
        outputs = torch.cat(outs, 1).transpose(0, 1)
        return {**grads, **g_out}, Pass(task.loss(outputs, trial), outputs, activity, {"spikes": Z})

    def factorised(self, trial: Trial, dE_dz: torch.Tensor, chunk: int | None = None) -> dict[str, torch.Tensor]:
        """Σ_t L_t e_t (Eq. 6 with κ = 0, no regulariser) for a given learning signal L [T, B, n] — with the true
        dE/dz it is BPTT's gradient of W_rec and W_in (the factorisation that the tests check)."""
        L = dE_dz.transpose(0, 1)
        grads, _, _ = self._recurrent(trial, chunk or self.config.chunk,
                                   lambda ch: L[:, ch.start:ch.start + ch.psi.shape[1]], 0.0, False)
        return grads

    # -- lifecycle, display, cost ----------------------------------------------------------------------------------
    def apply(self, grads: dict[str, torch.Tensor]) -> None:
        self.feedback.before_update()
        super().apply(grads)

    def after_update(self) -> None:
        self.feedback.after_update()

    def feedback_alignment(self) -> float | None:
        return self.feedback.alignment()

    def signals(self, task: Task, trial: Trial) -> dict[str, torch.Tensor]:
        """For one trial (batch 1): ``learning_signal`` [T, k] of the neurons owning the shown synapses and their
        readout-filtered ``eligibility_trace`` [T, k] (Eqs. 1–4 for those synapses alone)."""
        rows, cols = self.shown
        with torch.no_grad():
            ch, _, eps = self._whole_trial(task, trial)
            L = self.feedback.signal(eps)[0, :, rows]
            _, filtered = self._shown_traces(ch, rows, cols)
        return self._with_alignment({"learning_signal": L, "eligibility_trace": filtered})

    def _whole_trial(self, task: Task, trial: Trial) -> tuple[Chunk, torch.Tensor, torch.Tensor]:
        """The trial as one chunk (call without a graph), its outputs y and output errors ε, [B, T, O] each."""
        arch = self.arch
        (ch,) = self._sweep(trial, trial.steps)
        y = ch.zf @ arch.W_out.T + arch.b_out
        return ch, y, task.output_error(y.transpose(0, 1), trial, slice(None)).transpose(0, 1)

    def _shown_traces(self, ch: Chunk, rows: torch.Tensor, cols: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The trace e of Eq. (3) and its readout-filtered ē of Eq. (4), [T, k] each, of the synapses (rows, cols)
        on the chunk's first trial."""
        arch = self.arch
        beta = arch.beta[rows]
        ea, ebar, trace, filtered = torch.zeros_like(beta), torch.zeros_like(beta), [], []
        for s in range(ch.psi.shape[1]):
            ea = (arch.rho - beta * ch.psi_prev[0, s, rows]) * ea + ch.psi_prev[0, s, rows] * ch.eb_prev[0, s, cols]
            e = ch.psi[0, s, rows] * (ch.eb[0, s, cols] - beta * ea)  # Eq. (3)
            ebar = arch.kappa * ebar + (1 - arch.kappa) * e  # Eq. (4)
            trace.append(e)
            filtered.append(ebar)
        return torch.stack(trace), torch.stack(filtered)

    def _with_alignment(self, out: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """``out`` plus the feedback matrix's alignment with W_outᵀ when the feedback is not W_outᵀ itself."""
        if self.feedback.B is not None:
            fa = self.feedback.alignment()
            out["feedback_alignment"] = torch.tensor([float("nan") if fa is None else fa])
        return out

    def _step_numbers(self, batch: int) -> int:
        n, m, O = self.arch.n_units, self.arch.n_units + self.arch.n_inputs, self.arch.n_outputs
        return batch * (m + 5 * n + O)

    def memory(self, batch: int) -> tuple[int, int]:
        """Eq. (9)."""
        n, m, na = self.arch.n_units, self.arch.n_units + self.arch.n_inputs, len(self.adaptive_index)
        traces = batch * m + batch * na * m + (batch * n * m if self.arch.kappa > 0 else 0)
        return (traces + self._step_numbers(batch)) * self.itemsize() + self.feedback.state_bytes(), 0

    def buffer_bytes(self, batch: int, steps: int) -> int:
        n, m, O = self.arch.n_units, self.arch.n_units + self.arch.n_inputs, self.arch.n_outputs
        return min(self.config.chunk, steps) * batch * (2 * m + 4 * n + O) * self.itemsize()

    def work(self, batch: int, steps: int) -> Work:
        """The sweep (2·T·B·n·(m + O) flops) and Eqs. (7)–(8): about four products over the chunk's rows (8·T·B·n·m
        flops) and a few passes over the carried traces per chunk; about 1.5 tiny-network steps of calls per step."""
        n, m, O = self.arch.n_units, self.arch.n_units + self.arch.n_inputs, self.arch.n_outputs
        chunks = -(-steps // min(self.config.chunk, steps))
        return Work(2.0 * steps * batch * n * (m + O) + 8.0 * steps * batch * n * m, 4.0 * chunks * batch * n * m,
                    1.5 * steps + 4.0 * chunks)


def _backward_filter(L: torch.Tensor, a: float) -> torch.Tensor:
    """Σ_{s≤t<k} a^{t−s} L_t for L [B, k, n] (the backward sum of Eq. 7), by the recursion F_s = L_s + a F_{s+1}."""
    out = torch.empty_like(L)
    acc = torch.zeros_like(L[:, 0])
    for s in range(L.shape[1] - 1, -1, -1):
        acc = L[:, s] + a * acc
        out[:, s] = acc
    return out


def _adjoint(c: torch.Tensor, d: torch.Tensor) -> torch.Tensor:
    """λ_s = c_s + d_{s+1} λ_{s+1} of Eq. (8) for coefficients c [q, B, k, na] and decays d [B, k, na]."""
    out = torch.empty_like(c)
    acc = c[:, :, -1]
    out[:, :, -1] = acc
    for s in range(c.shape[2] - 2, -1, -1):
        acc = c[:, :, s] + d[:, s + 1] * acc
        out[:, :, s] = acc
    return out
