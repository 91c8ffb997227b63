"""A recurrent network of leaky integrate-and-fire neurons, some with an adaptive threshold (the LSNN of Bellec et al.
2018, NeurIPS, and 2020, Nat Commun 11:3625), with a leaky readout.

Time runs in steps of ``dt`` ms; α = e^{−dt/τ_m}, ρ = e^{−dt/τ_a}, κ = e^{−dt/τ_out}. Neuron j keeps a membrane
potential v_j, an adaptation variable a_j and emits spikes z_j ∈ {0, 1}. One step, from the previous state:

    a_t = ρ a_{t−1} + z_{t−1}                                                                       (1)
    A_t = v_th + β_j a_t                    (the threshold; β_j = 0 for a plain LIF neuron)               (2)
    v_t = α v_{t−1} + W z_{t−1} + W_in x̂_t − v_th sg(z_{t−1})   (reset by subtraction, sg = no gradient) (3)
    z_t = H((v_t − A_t)/v_th) · [not refractory at t]                                                  (4)
    r_t = n_ref z_t + (1 − z_t) max(r_{t−1} − 1, 0),   refractory at t  ⇔  r_{t−1} > 0                   (5)
    zf_t = κ zf_{t−1} + (1 − κ) z_t,        y_t = W_out zf_t + b_out    (the leaky readout)              (6)

so after a spike a neuron is silent for n_ref = round(refractory/dt) steps. W is the recurrent matrix with its
diagonal zero (no self-connections) and, at ``density`` < 1, a fixed random pattern of absent synapses. The adaptive
neurons (a fraction ``adaptive_fraction`` of each cell type) have

    β_j = beta · (1 − ρ)/(1 − α)                                                                    (7)

(the e-prop paper's scaling; beta = 1.7 at τ_m = 20 ms, τ_a = 2 s, dt = 1 ms gives β = 0.01742). H has no
derivative; gradients use the pseudo-derivative with dampening γ (Bellec et al. 2020):

    ψ_t = ∂z_t/∂v_t = (γ / v_th) max(0, 1 − |(v_t − A_t)/v_th|),  0 while refractory;  ∂z_t/∂a_t = −β ψ_t  (8)

Inputs. With ``input="poisson"`` the task's input x_t ∈ [0, 1] is a rate, x = 1 meaning ``input_rate`` Hz, and the
network sees spikes x̂_{t,i} = [u_{t,i} < x_{t,i} · input_rate · dt/1000] with u uniform from a generator seeded by
(the network's seed, the step t, the bytes of x_t):

    x̂_t = Bernoulli(clamp(x_t, 0, 1) · input_rate · dt / 1000)                                       (9)

A pure function of the trial, so every rule and BPTT's oracle see the same spikes, and a frozen input (the same on
every trial) gives frozen Poisson spikes, as in the e-prop pattern-generation tutorial. ``input="current"`` feeds
x_t itself (a task whose inputs are already spikes, or currents).

Dale's law (``dale``): the first round(excitatory_fraction · n) neurons are excitatory, the rest inhibitory, and

    W = |W_rec| ⊙ mask ⊙ s,     s_i = +1 (i excitatory), −1 (i inhibitory)   (column i: the presynaptic neuron) (10)

so no weight changes sign (the inhibitory magnitudes start n_E/n_I larger, balancing the mean input). Without it
W = W_rec ⊙ mask. W_in is unconstrained.

Firing-rate regulariser (``rate_reg`` = c > 0): with f̄_j the mean rate of neuron j over the trials and steps of a
batch in spikes per ms, and f* = target_rate/1000,

    E_reg = c Σ_j (f̄_j − f*)²,      ∂E_reg/∂z_{t,b,j} = 2 c (f̄_j − f*) / (T · B · dt)                  (11)

``run`` adds Eq. (11)'s gradient to the spikes' backward pass (a zero added to the outputs whose derivative is
Eq. 11), so BPTT trains with it; the reported loss stays the task's. Rules that step the network themselves
(``tbptt``, ``torch.func`` Jacobians) do not see it; e-prop adds its own term.

State variables shown by the page (:meth:`LIF.variables`): membrane potential v, threshold A, spikes z; the units'
``activity`` is zf, what the readout sees.
"""

from __future__ import annotations

import math
import zlib
from typing import Any, ClassVar, Literal, NamedTuple

import torch
from pydantic import Field, ValidationInfo, field_validator
from torch import nn

from engine.archs import ARCHS
from engine.archs.base import Architecture
from engine.archs.lif_trial import LIFTrial, _psi, forward_steps, rest
from engine.config import ConfigModel


class LIFState(NamedTuple):
    v: torch.Tensor
    """Membrane potential v_t [B, n] (Eq. 3)."""
    a: torch.Tensor
    """Adaptation a_t [B, n] (Eq. 1); the threshold is v_th + β a."""
    z: torch.Tensor
    """Spikes z_t [B, n] (Eq. 4)."""
    r: torch.Tensor
    """Refractory steps left r_t [B, n] (Eq. 5)."""
    zf: torch.Tensor
    """Readout-filtered spikes zf_t [B, n] (Eq. 6)."""
    t: torch.Tensor
    """Steps done [B, 1] (keys the Poisson draws of Eq. 9)."""


class Spike(torch.autograd.Function):
    """z = H(u − v_th) · free forward, ψ of Eq. (8) backward, for u = v − β a and ``free`` [not refractory] (0/1, or
    None when there is no refractory period)."""

    @staticmethod
    def forward(ctx: Any, u: torch.Tensor, free: torch.Tensor | None, v_th: float, gamma: float) -> torch.Tensor:  # type: ignore[override]
        ctx.save_for_backward(u, free)
        ctx.v_th, ctx.gamma = v_th, gamma
        z = (u > v_th).to(u.dtype)
        return z if free is None else z.mul_(free)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None, None, None]:  # type: ignore[override]
        u, free = ctx.saved_tensors
        return grad * _psi(u, free, ctx.v_th, ctx.gamma), None, None, None


class SpikeFunc(torch.autograd.Function):
    """:class:`Spike` in the form ``torch.func`` transforms accept (used only under them: the check of the
    signature that this form costs on every call doubles the step time of a small network)."""

    generate_vmap_rule = True

    @staticmethod
    def forward(u: torch.Tensor, free: torch.Tensor | None, v_th: float, gamma: float) -> torch.Tensor:  # type: ignore[override]
        z = (u > v_th).to(u.dtype)
        return z if free is None else z * free

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: Any) -> None:
        ctx.save_for_backward(inputs[0], inputs[1])
        ctx.v_th, ctx.gamma = inputs[2], inputs[3]

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None, None, None]:  # type: ignore[override]
        u, free = ctx.saved_tensors
        return grad * _psi(u, free, ctx.v_th, ctx.gamma), None, None, None


class RatePenalty(torch.autograd.Function):
    """Zero outputs whose backward pass gives the spikes Z [T, B, n] the gradient of Eq. (11)."""

    @staticmethod
    def forward(ctx: Any, Z: torch.Tensor, signal: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:  # type: ignore[override]
        ctx.save_for_backward(signal)
        ctx.T, ctx.B = Z.shape[:2]
        return Z.new_zeros(shape)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None, None]:  # type: ignore[override]
        (signal,) = ctx.saved_tensors
        return signal.expand(ctx.T, ctx.B, -1), None, None


class LIFConfig(ConfigModel):
    hidden: int = Field(100, ge=2, le=2048)
    """Number of recurrent neurons n."""
    adaptive_fraction: float = Field(0.5, ge=0.0, le=1.0)
    """Fraction of neurons with an adaptive threshold: 0 = LIF network, 1 = all ALIF, 0.5 = the e-prop paper's LSNN."""
    dt: float = Field(1.0, gt=0.0, le=100.0)
    """Time step in ms: the time constants below are in ms, so a coarser step keeps the same dynamics in fewer steps."""
    tau_m: float = Field(20.0, gt=0.0, le=100_000.0)
    """Membrane time constant τ_m (ms)."""
    tau_a: float = Field(2000.0, gt=0.0, le=100_000.0)
    """Adaptation time constant τ_a (ms): how long a spike raises an adaptive neuron's threshold."""
    tau_out: float = Field(20.0, gt=0.0, le=100_000.0)
    """Time constant of the leaky readout (ms)."""
    v_th: float = Field(0.6, gt=0.0, le=100.0)
    """Baseline firing threshold v_th (also the size of the reset by subtraction)."""
    beta: float = Field(1.7, ge=0.0, le=100.0)
    """Adaptation strength of the adaptive neurons, scaled as β = beta·(1−ρ)/(1−α) (e-prop paper: 1.7)."""
    refractory: float = Field(5.0, ge=0.0, le=1000.0)
    """Refractory period (ms) after a spike; rounded to whole steps."""
    gamma: float = Field(0.3, gt=0.0, le=10.0)
    """Dampening γ of the pseudo-derivative γ/v_th·max(0, 1 − |v − A|/v_th) that gradients use for a spike."""
    input: Literal["poisson", "current"] = "poisson"
    """How the task's inputs reach the neurons: as Poisson spikes at a rate set by the input (1 = input_rate), or
    as they are (currents, or spikes the task already drew)."""
    input_rate: float = Field(100.0, gt=0.0, le=1000.0)
    """Poisson inputs only: firing rate (Hz) of an input channel whose value is 1."""
    input_scale: float = Field(1.0, ge=0.0, le=100.0)
    """Scale of the initial input weights (entries of variance scale²/inputs)."""
    rec_scale: float = Field(1.0, ge=0.0, le=100.0)
    """Scale of the initial recurrent weights (entries of variance scale²/(n·density))."""
    density: float = Field(1.0, gt=0.0, le=1.0)
    """Fraction of recurrent synapses that exist (fixed pattern; self-connections never exist)."""
    dale: bool = False
    """Dale's law: each neuron is excitatory or inhibitory and its outgoing weights keep that sign."""
    excitatory_fraction: float = Field(0.8, gt=0.0, lt=1.0)
    """With Dale's law: fraction of excitatory neurons (the rest are inhibitory)."""
    rate_reg: float = Field(0.0, ge=0.0, le=1e6)
    """Strength c of the firing-rate regulariser c·Σ_j (rate_j − target)² (rates in spikes/ms); 0 = off."""
    target_rate: float = Field(10.0, ge=0.0, le=1000.0)
    """Target firing rate of the regulariser (Hz)."""

    @field_validator("excitatory_fraction")
    @classmethod
    def _two_types(cls, f: float, info: ValidationInfo) -> float:
        n = info.data.get("hidden")
        if info.data.get("dale") and n is not None and not 1 <= round(f * n) <= n - 1:
            raise ValueError(
                f"excitatory_fraction {f:g} with hidden {n} gives {round(f * n)} excitatory and {n - round(f * n)} "
                f"inhibitory neurons; Dale's law needs at least one of each (excitatory_fraction between "
                f"{1 / n:.3g} and {1 - 1 / n:.3g})")
        return f


def _block_flags(n: int, n_exc: int, fraction: float) -> torch.Tensor:
    """Adaptive flags [n]: the last round(fraction·size) neurons of each cell-type block [0, n_exc), [n_exc, n)."""
    flags = torch.zeros(n, dtype=torch.bool)
    for lo, hi in ((0, n_exc), (n_exc, n)):
        k = round(fraction * (hi - lo))
        if k:
            flags[hi - k:hi] = True
    return flags


@ARCHS.register("lif")
class LIF(Architecture):
    Config = LIFConfig
    description = ("Spiking network: leaky integrate-and-fire neurons, some with an adaptive threshold (LSNN), "
                   "reset by subtraction, refractory period, leaky readout; optional Dale's law and sparse wiring.")
    reference = "Bellec et al. 2018, NeurIPS; Bellec et al. 2020, Nat Commun 11:3625"
    provides = frozenset({"differentiable_step", "spiking"})
    #: The state variables a page can show (:meth:`variables`), with what they are.
    state_variables: ClassVar[dict[str, str]] = {
        "v": "membrane potential", "threshold": "firing threshold v_th + β a", "z": "spikes"}
    config: LIFConfig

    def __init__(self, config: LIFConfig, n_inputs: int, n_outputs: int, generator: torch.Generator,
                 dtype: torch.dtype = torch.float32):
        super().__init__(config, n_inputs, n_outputs)
        c, g, n = config, generator, config.hidden
        self.alpha = math.exp(-c.dt / c.tau_m)
        self.rho = math.exp(-c.dt / c.tau_a)
        self.kappa = math.exp(-c.dt / c.tau_out)
        self.n_ref = int(round(c.refractory / c.dt))
        self.n_exc = round(c.excitatory_fraction * n) if c.dale else n
        self.seed = int(torch.randint(0, 2**31 - 1, (1,), generator=g).item())  # keys the Poisson draws (Eq. 9)
        adaptive = _block_flags(n, self.n_exc, c.adaptive_fraction)
        beta = c.beta * (1 - self.rho) / (1 - self.alpha)  # Eq. (7)
        mask = (torch.rand(n, n, generator=g) < c.density).to(dtype) if c.density < 1 else torch.ones(n, n, dtype=dtype)
        mask.fill_diagonal_(0.0)
        sign = torch.ones(n, dtype=dtype)
        sign[self.n_exc:] = -1.0
        w = torch.randn(n, n, generator=g, dtype=dtype) * c.rec_scale / (n * c.density) ** 0.5
        if c.dale:  # Eq. (10): magnitudes, inhibitory columns scaled to balance the excitatory ones
            w = w.abs()
            w[:, self.n_exc:] *= self.n_exc / (n - self.n_exc)
        self.register_buffer("rec_mask", mask)
        self.register_buffer("sign", sign)
        self.register_buffer("adaptive", adaptive)
        self.any_adaptive = bool(adaptive.any())
        self.register_buffer("beta", adaptive.to(dtype) * beta)
        self.W_in = nn.Parameter(torch.randn(n, n_inputs, generator=g, dtype=dtype) * c.input_scale / n_inputs ** 0.5)
        self.W_rec = nn.Parameter(w * mask)
        self.W_out = nn.Parameter(torch.randn(n_outputs, n, generator=g, dtype=dtype) / n ** 0.5)
        self.b_out = nn.Parameter(torch.zeros(n_outputs, dtype=dtype))

    # -- structure -----------------------------------------------------------------------------------------------
    @property
    def n_units(self) -> int:
        return self.config.hidden

    def recurrent_weights(self, W: torch.Tensor | None = None) -> torch.Tensor:
        """W of Eq. (3): Eq. (10) with Dale's law, W_rec ⊙ mask without. Given a raw matrix ``W`` (e.g. the
        initial W_rec), the same map applied to it."""
        W = self.W_rec if W is None else W
        if self.config.dale:
            return W.abs() * self.rec_mask * self.sign
        return W * self.rec_mask

    def grad_masks(self) -> dict[str, torch.Tensor]:
        return {"W_rec": self.rec_mask}

    def cell_types(self) -> dict[str, torch.Tensor]:
        """Boolean flags [n] per neuron: ``excitatory`` (all True without Dale's law) and ``adaptive``."""
        return {"excitatory": self.sign > 0, "adaptive": self.adaptive.clone()}

    # -- inputs (Eq. 9) --------------------------------------------------------------------------------------------
    def encode(self, x_t: torch.Tensor, t: int) -> torch.Tensor:
        """x̂_t of Eq. (9) for the input x_t [B, I] at step t (x_t itself for current inputs)."""
        if self.config.input == "current":
            return x_t
        return self._poisson(x_t.detach().to("cpu", torch.float64), t).to(dtype=x_t.dtype, device=x_t.device)

    def encode_all(self, inputs: torch.Tensor) -> torch.Tensor:
        """Eq. (9) for a whole trial [T, B, I] (the same numbers as ``encode`` step by step)."""
        if self.config.input == "current":
            return inputs
        rates = inputs.detach().to("cpu", torch.float64).contiguous()
        u, g = torch.empty(rates.shape), torch.Generator()
        for t, x in enumerate(rates):  # the draws of ``_poisson``, one generator reseeded
            torch.rand(x.shape, generator=g.manual_seed(self._key(x, t)), out=u[t])
        spikes = u < rates.clamp(0, 1) * (self.config.input_rate * self.config.dt / 1000)
        return spikes.to(inputs.device, inputs.dtype)

    def _key(self, x: torch.Tensor, t: int) -> int:
        """The seed of Eq. (9)'s draws at step t for float64 CPU rates x [B, I]."""
        return zlib.crc32(x.contiguous().numpy().tobytes(), zlib.crc32(f"{self.seed}:{t}".encode()))

    def _poisson(self, x: torch.Tensor, t: int) -> torch.Tensor:
        """Eq. (9) for float64 CPU rates x [B, I] at step t."""
        u = torch.rand(x.shape, generator=torch.Generator().manual_seed(self._key(x, t)))
        return (u < x.clamp(0, 1) * (self.config.input_rate * self.config.dt / 1000)).to(torch.float64)

    # -- dynamics -----------------------------------------------------------------------------------------------
    def init_state(self, batch: int) -> LIFState:
        z = self.W_rec.new_zeros(batch, self.n_units)
        return LIFState(z, z, z, z, z, self.W_rec.new_zeros(batch, 1))

    def free(self, r_prev: torch.Tensor) -> torch.Tensor | None:
        """1 where a neuron may spike (not refractory, Eq. 5), as numbers; None without a refractory period."""
        return None if self.n_ref == 0 else (r_prev <= 0).to(r_prev.dtype)

    def spike(self, u: torch.Tensor, free: torch.Tensor | None) -> torch.Tensor:
        """z of Eq. (4) for u = v − β a, with the pseudo-derivative of Eq. (8)."""
        c = self.config
        if torch._C._are_functorch_transforms_active():
            return SpikeFunc.apply(u, free, c.v_th, c.gamma)
        if torch.is_grad_enabled() and u.requires_grad:
            return Spike.apply(u, free, c.v_th, c.gamma)
        z = (u > c.v_th).to(u.dtype)  # no graph: the same numbers without the autograd function
        return z if free is None else z * free

    def fire(self, v: torch.Tensor, A: torch.Tensor, r_prev: torch.Tensor) -> torch.Tensor:
        """z of Eq. (4) from the membrane potential and the threshold."""
        return self.spike(v - A + self.config.v_th, self.free(r_prev))

    def pseudo_derivative(self, v: torch.Tensor, A: torch.Tensor, r_prev: torch.Tensor) -> torch.Tensor:
        """ψ of Eq. (8), no graph."""
        return _psi(v - A + self.config.v_th, self.free(r_prev), self.config.v_th, self.config.gamma)

    def refractory_next(self, z: torch.Tensor, r_prev: torch.Tensor) -> torch.Tensor:
        """Eq. (5), no graph."""
        if self.n_ref == 0:
            return r_prev
        return torch.where(z.detach() > 0, float(self.n_ref), (r_prev - 1).clamp_min_(0))

    def step(self, drive: torch.Tensor, state: LIFState, recurrent: torch.Tensor | None = None,
             W: torch.Tensor | None = None, W_T: torch.Tensor | None = None) -> LIFState:
        """Eqs. (1)–(6) for an input drive W_in x̂_t [B, n]. ``recurrent``: the spikes z_{t−1} sent through W (default
        the state's own; e-prop's autograd construction passes them detached); ``W`` (or its transpose ``W_T``): the
        recurrent matrix, formed once per trial by the caller."""
        if W_T is None:
            W_T = (self.recurrent_weights() if W is None else W).T
        z_prev = state.z
        rec = z_prev if recurrent is None else recurrent
        a = torch.add(z_prev, state.a, alpha=self.rho)  # Eq. (1)
        leak = torch.add(drive, state.v, alpha=self.alpha).sub_(z_prev.detach(), alpha=self.config.v_th)
        v = torch.addmm(leak, rec, W_T)  # Eq. (3)
        u = torch.addcmul(v, self.beta, a, value=-1.0) if self.any_adaptive else v  # v − A + v_th (Eq. 2)
        free = self.free(state.r)
        z = self.spike(u, free)  # Eq. (4)
        zf = torch.lerp(state.zf, z, 1 - self.kappa)  # Eq. (6)
        return LIFState(v, a, z, self.refractory_next(z, state.r), zf, state.t + 1)

    def forward(self, x_t: torch.Tensor, state: LIFState) -> LIFState:
        x_hat = self.encode(x_t, int(state.t.reshape(-1)[0].item()) if state.t.numel() else 0)
        return self.step(x_hat @ self.W_in.T, state)

    def activity(self, state: LIFState) -> torch.Tensor:
        return state.zf

    def variables(self, states: LIFState) -> dict[str, torch.Tensor]:
        """The state variables of :attr:`state_variables` for states with any leading dims (e.g. ``trajectory``)."""
        return {"v": states.v, "threshold": self.config.v_th + self.beta * states.a, "z": states.z}

    def trajectory(self, inputs: torch.Tensor, state: LIFState | None = None) -> LIFState:
        """Every step's state of a trial [T, B, I], fields stacked time first (graph kept)."""
        return LIFState(*(torch.stack(f) for f in zip(*self._unroll(inputs, state))))

    def _unroll(self, inputs: torch.Tensor, state: LIFState | None) -> list[LIFState]:
        """The states of a trial, the input drive of every step in one product and W formed once."""
        state = self.init_state(inputs.shape[1]) if state is None else state
        W_T = self.recurrent_weights().T
        states = []
        for d in self.encode_all(inputs) @ self.W_in.T:
            state = self.step(d, state, W_T=W_T)
            states.append(state)
        return states

    def run(self, inputs: torch.Tensor, state: LIFState | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """A whole trial, with the regulariser's gradient attached (Eq. 11). From rest, and outside ``torch.func``
        transforms, the trial is one autograd node (``engine.archs.lif_trial``: the same numbers, 3–5× faster);
        otherwise :meth:`run_stepwise`."""
        if state is not None or torch._C._are_functorch_transforms_active():
            return self.run_stepwise(inputs, state)
        D, W = self.encode_all(inputs) @ self.W_in.T, self.recurrent_weights()
        if torch.is_grad_enabled() and (D.requires_grad or W.requires_grad):
            ZF, Z = LIFTrial.apply(D, W, self)
        else:
            Z, ZF, *_ = forward_steps(self, D, W.T, rest(self, D.shape[1], D))
        return ZF, self._readout(ZF, Z)

    def run_stepwise(self, inputs: torch.Tensor, state: LIFState | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """:meth:`run` as autograd on the step-by-step unroll (``step``); the oracle of ``engine.archs.lif_trial``."""
        states = self._unroll(inputs, state)
        ZF = torch.stack([s.zf for s in states])
        return ZF, self._readout(ZF, torch.stack([s.z for s in states]))

    def _readout(self, ZF: torch.Tensor, Z: torch.Tensor) -> torch.Tensor:
        """y of Eq. (6) for a trial, the regulariser's gradient attached to Z (Eq. 11)."""
        outputs = ZF @ self.W_out.T + self.b_out
        if self.config.rate_reg > 0 and torch.is_grad_enabled():
            outputs = outputs + RatePenalty.apply(Z, self.rate_signal(Z.detach()), tuple(outputs.shape))
        return outputs

    # -- the regulariser (Eq. 11) --------------------------------------------------------------------------------
    def rates(self, Z: torch.Tensor) -> torch.Tensor:
        """f̄_j [n] in spikes per ms for spikes Z [T, B, n]."""
        return Z.mean((0, 1)) / self.config.dt

    def rate_penalty(self, Z: torch.Tensor) -> torch.Tensor:
        """E_reg of Eq. (11)."""
        return self.config.rate_reg * ((self.rates(Z) - self.config.target_rate / 1000) ** 2).sum()

    def rate_signal(self, Z: torch.Tensor) -> torch.Tensor:
        """∂E_reg/∂z_{t,b,j} of Eq. (11) [n] (the same for every step and trial)."""
        return self.rate_signal_from_counts(Z.sum((0, 1)), *Z.shape[:2])

    def rate_signal_from_counts(self, counts: torch.Tensor, steps: int, batch: int) -> torch.Tensor:
        """Eq. (11) from each neuron's spike count [n] over ``steps`` steps of ``batch`` trials."""
        c = self.config
        rates = counts / (steps * batch * c.dt)
        return 2 * c.rate_reg * (rates - c.target_rate / 1000) / (steps * batch * c.dt)
