"""Architecture: a recurrent network written as a pure step function plus a linear readout.

A network has a state s_t (a NamedTuple of [B, ·] tensors), recurrent parameters θ and a readout (W_out, b_out):

    s_t = F_θ(s_{t−1}, x_t)          (1)   ``forward(x_t, state)`` — pure: no hidden mutation
    y_t = W_out a(s_t) + b_out       (2)   ``readout(state)``, with a(s) = ``activity(state)`` [B, n]

Credit rules drive the step themselves, so every rule sees the same dynamics. Online rules need local derivatives:
RTRL needs J_t = ∂s_t/∂s_{t−1} and the immediate influence M̄_t = ∂s_t/∂θ (:meth:`jacobians`). The default
computes both with ``torch.func`` for any architecture; a subclass may override it with a closed form that a test
proves equal to the default. When each row i of the recurrent parameters (seen as one [S, m] matrix) drives state
variable i alone, the immediate influence factorises,

    M̄_t[k, (i, j)] = δ_ki c_{t,i} pre_{t,j}        (c_t [B, S], pre_t [B, m])                              (3)

and such an architecture may return the factors of K steps at once (:meth:`influence_factors`), so that RTRL never
builds M̄_t. ``run`` unrolls a whole trial; a subclass may override it with a faster form of the same numbers.

Unit locals (what e-prop, RFLO and SnAp-1 use, capability "unit_locals"). Write the step with the *recurrent
input* z (what the recurrent weight matrices multiply; z = a(s_{t−1})) as an argument of its own,
s_t = F_θ(s_{t−1}, z_{t−1}, x_t) (``forward(x_t, state, presyn=z)``). Then, for each state variable j:

    d_{t,j} = ∂s_{t,j}/∂s_{t−1,j} with z held fixed       (the unit's own-state Jacobian: leak, gates)  (4)
    D_{t,j} = (J_t)_jj                                     (the full diagonal, self-connections included)  (5)
    ē_{t,ji} = ∂s_{t,j}/∂W_ji                              (the immediate derivative onto the weight's own
                                                            postsynaptic unit: row j of every parameter)    (6)

Every recurrent parameter has the S units as its rows (a bias is one column). :meth:`unit_locals` returns K steps of
Eqs. (4)–(6) as :class:`UnitLocals`; the default computes them with ``torch.func`` for any architecture whose
``forward`` accepts ``presyn``, one dense [B, S, m] block per parameter. An architecture may override it with a
closed form that groups parameters sharing a postsynaptic factor into one *factored* block, ē_{t,ji} =
post_{t,j} pre_{t,i} (Eq. 3 restricted to k = i); a test proves the two equal (``Block.drive``).

Capabilities. A network declares what it ``provides`` (names from :data:`CAPABILITIES`) and a credit rule what it
``needs``; the rule can train the network when needs ⊆ provides (``engine.spec.compatible``). Nothing names an
architecture: a new network that provides what a rule needs is trained by it with no edit to the rule.
"""

from __future__ import annotations

from typing import Any, ClassVar, NamedTuple

import torch
from torch import nn
from torch.func import functional_call, jacrev, jvp, vmap

from engine.config import ConfigModel

#: What an architecture can provide to a credit rule, and what each promise means. A rule's ``needs`` and an
#: architecture's ``provides`` are subsets of these names; the catalog shows both.
CAPABILITIES: dict[str, str] = {
    "differentiable_step": "the step F_θ of Eq. (1) is differentiable by autograd (and ``torch.func``), so the "
                           "network can be unrolled and backpropagated, and its Jacobians J_t and M̄_t computed",
    "jacobians": "the step's Jacobians J_t = ∂s_t/∂s_{t−1} and M̄_t = ∂s_t/∂θ can be computed for RTRL "
                 "(``jacobians``, by ``torch.func`` by default: the step must be free of data-dependent Python, "
                 "which a spiking step with its custom pseudo-derivative is not)",
    "unit_locals": "each unit's local derivatives (``unit_locals``): its own-state Jacobian ∂s_j^t/∂s_j^{t−1} along "
                   "the paths that bypass the recurrent weights, the diagonal of J_t, and the immediate "
                   "derivative ∂s_j^t/∂W_ji (by parameter block; factored as post × pre in closed forms); "
                   "the state is one variable per unit and is the activity",
    "spiking": "spiking units with a pseudo-derivative ψ for the non-differentiable spike, and the leaky "
               "integrate-and-fire state (membrane potential, threshold adaptation, refractory count) that the "
               "spiking e-prop traces and MDGL are written for (``engine.archs.lif``)",
    "unit_noise": "noise ξ can be added to each unit's drive (``forward(x, state, noise=ξ)``), and "
                  "``presynaptic(x_t, a_{t−1})`` gives, for each parameter that drives it linearly, its presynaptic "
                  "factor (the drive's derivative with respect to W_ji is pre_i)",
}

#: Parameters of the linear readout, shared by every architecture (Eq. 2).
READOUT = ("W_out", "b_out")


class Factors(NamedTuple):
    """K steps of an architecture in the factored form of Eq. (3) (:meth:`Architecture.influence_factors`)."""

    state: Any
    """The state after the last step."""
    states: Any
    """Every step's state, fields with time first [K, B, ·] (for the readout and its credit)."""
    J: torch.Tensor
    """J_t = ∂s_t/∂s_{t−1} [K, B, S, S]."""
    post: torch.Tensor
    """c_t [K, B, S] of Eq. (3)."""
    pre: torch.Tensor
    """pre_t [K, B, m] of Eq. (3)."""
    columns: dict[str, int]
    """Parameter group → its number of columns in pre (in order; the groups' rows are the S state variables)."""


class Block(NamedTuple):
    """Parameters sharing one immediate-derivative pattern, K steps (Eq. 6): factored (``post`` and ``pre``) or
    ``dense``. Columns of pre (or of dense) are the parameters' columns in the order of ``columns``."""

    columns: dict[str, int]
    """Parameter name → its number of columns (1 for a bias vector); its rows are the S units."""
    post: torch.Tensor | None
    """Postsynaptic factor [K, B, S] (factored blocks)."""
    pre: torch.Tensor | None
    """Presynaptic factor [K, B, m] (factored blocks)."""
    dense: torch.Tensor | None = None
    """ē [K, B, S, m] (unfactored blocks: the torch.func default)."""

    def drive(self, k: int) -> torch.Tensor:
        """ē_t of Eq. (6) at step k of the block, [B, S, m]."""
        if self.dense is not None:
            return self.dense[k]
        return self.post[k].unsqueeze(-1) * self.pre[k].unsqueeze(-2)


class UnitLocals(NamedTuple):
    """K steps of Eqs. (4)–(6) (:meth:`Architecture.unit_locals`), computed without a graph."""

    state: Any
    """The state after the last step."""
    states: Any
    """Every step's state, fields with time first [K, B, ·]."""
    own: torch.Tensor | float
    """d_t of Eq. (4) [K, B, S], or one number when it is the same for every unit and step (the rnn's 1 − α)."""
    diag: torch.Tensor
    """D_t of Eq. (5) [K, B, S]."""
    blocks: list[Block]
    """Eq. (6), every recurrent parameter in exactly one block."""


class Architecture(nn.Module):
    """Base class. Subclasses define ``Config``, metadata, parameters and the four state methods."""

    name: ClassVar[str]
    Config: ClassVar[type[ConfigModel]] = ConfigModel
    description: ClassVar[str] = ""
    reference: ClassVar[str] = ""
    provides: ClassVar[frozenset[str]] = frozenset({"differentiable_step", "jacobians"})
    """Capabilities (names of :data:`CAPABILITIES`) this network offers credit rules."""
    shown_weights: ClassVar[tuple[str, ...]] = ()
    """Parameters the page shows as weight matrices, in order (empty: every 2-D parameter)."""
    state_variables: ClassVar[dict[str, str]] = {}
    """Per-unit variables the page shows over a trial, name → what it is (e.g. a GRU's gates). A network that
    declares any implements ``trajectory(inputs)`` and ``variables(trajectory)`` → {name: [T, B, n]}."""

    def __init__(self, config: ConfigModel, n_inputs: int, n_outputs: int):
        super().__init__()
        self.config = config
        self.n_inputs = n_inputs
        self.n_outputs = n_outputs

    # -- what a subclass writes --------------------------------------------------------------------------
    @property
    def n_units(self) -> int:
        raise NotImplementedError

    def init_state(self, batch: int) -> Any:
        raise NotImplementedError

    def forward(self, x_t: torch.Tensor, state: Any) -> Any:  # Eq. (1)
        raise NotImplementedError

    def activity(self, state: Any) -> torch.Tensor:
        """The units' observable activity a(s) [B, n]: what the readout and the plots see."""
        raise NotImplementedError

    # -- shared --------------------------------------------------------------------------------------------
    def readout(self, state: Any) -> torch.Tensor:  # Eq. (2) (fields may carry leading time and batch dims)
        return self.activity(state) @ self.W_out.T + self.b_out

    def recurrent_parameters(self) -> dict[str, nn.Parameter]:
        return {k: p for k, p in self.named_parameters() if k not in READOUT}

    def readout_parameters(self) -> dict[str, nn.Parameter]:
        return {k: p for k, p in self.named_parameters() if k in READOUT}

    def constrain(self) -> None:
        """Called after every optimizer step: project the parameters onto what the network allows (e.g. the
        signs of Dale's law). Default: nothing."""

    def weight_names(self) -> list[str]:
        """The weight matrices to show (``shown_weights``, or every 2-D parameter)."""
        return list(self.shown_weights) or [k for k, p in self.named_parameters() if p.dim() == 2]

    def grad_masks(self) -> dict[str, torch.Tensor]:
        """Fixed zero patterns (e.g. absent synapses): rules multiply their gradients by these."""
        return {}

    def flatten(self, state: NamedTuple) -> torch.Tensor:
        """State as one [B, S] tensor (fields concatenated in order)."""
        return torch.cat(list(state), dim=-1)

    def unflatten(self, flat: torch.Tensor) -> Any:
        cls = type(self.init_state(1))
        sizes = [f.shape[-1] for f in self.init_state(1)]
        return cls(*torch.split(flat, sizes, dim=-1))

    def run(self, inputs: torch.Tensor, state: Any = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Unroll over inputs [T, B, I]; return activity [T, B, n] and outputs [T, B, O] (graph kept)."""
        state = self.init_state(inputs.shape[1]) if state is None else state
        acts, outs = [], []
        for x_t in inputs:
            state = self(x_t, state)
            acts.append(self.activity(state))
            outs.append(self.readout(state))
        return torch.stack(acts), torch.stack(outs)

    def readout_credit(self, state: Any, errors: torch.Tensor) -> torch.Tensor:
        """c = ε ∂y/∂s [B, S] for output errors ε [B, O] (the credit the readout of Eq. 2 gives the state), by one
        vector-Jacobian product; a subclass may write it in closed form."""
        flat = self.flatten(state).detach().requires_grad_(True)
        with torch.enable_grad():
            y = self.readout(self.unflatten(flat))
            (c,) = torch.autograd.grad(y, flat, errors)
        return c

    def influence_factors(self, inputs: torch.Tensor, state: Any) -> Factors | None:
        """For an architecture whose immediate influence factorises as in Eq. (3), with all recurrent parameters
        seen as one [S, m] matrix (rows: state variables, columns: the presynaptic entries of every group in
        order): run the K steps of ``inputs`` [K, B, I] from ``state`` without a graph; return their
        :class:`Factors`. RTRL then never builds M̄ nor J step by step. Fixed masks are not applied
        here (a masked column of M only ever receives its own M̄; the rule masks the gradient). Default ``None``:
        not factored, RTRL uses :meth:`jacobians` step by step."""
        return None

    def unit_locals(self, inputs: torch.Tensor, state: Any) -> UnitLocals:
        """Eqs. (4)–(6) for the K steps of ``inputs`` [K, B, I] from ``state``, by ``torch.func`` on ``forward``
        with the recurrent input ``presyn`` held apart; one dense block per recurrent parameter."""
        params = {k: p.detach() for k, p in self.recurrent_parameters().items()}

        def step(p: dict[str, torch.Tensor], s: torch.Tensor, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
            new = functional_call(self, p, (x.unsqueeze(0), self.unflatten(s.unsqueeze(0))),
                                  {"presyn": z.unsqueeze(0)})
            return self.flatten(new).squeeze(0)

        def full(p: dict[str, torch.Tensor], s: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
            return step(p, s, self.activity(self.unflatten(s.unsqueeze(0))).squeeze(0), x)

        own, diag, dense, states = [], [], {k: [] for k in params}, []
        with torch.no_grad():
            for x_t in inputs:
                flat = self.flatten(state).detach()
                z = self.activity(state).detach()
                own.append(vmap(jacrev(step, argnums=1), in_dims=(None, 0, 0, 0))(params, flat, z, x_t)
                           .diagonal(dim1=-2, dim2=-1))  # Eq. (4)
                diag.append(vmap(jacrev(full, argnums=1), in_dims=(None, 0, 0))(params, flat, x_t)
                            .diagonal(dim1=-2, dim2=-1))  # Eq. (5)
                M = vmap(jacrev(step, argnums=0), in_dims=(None, 0, 0, 0))(params, flat, z, x_t)
                for k, m in M.items():  # Eq. (6): row j of the parameter onto unit j, [B, S, columns]
                    m = m.reshape(*m.shape[:2], m.shape[2], -1)
                    dense[k].append(m.diagonal(dim1=1, dim2=2).transpose(1, 2))
                state = self(x_t, state)
                states.append(state)
        stacked = type(state)(*(torch.stack(f) for f in zip(*states)))
        blocks = [Block({k: v[0].shape[-1]}, None, None, torch.stack(v)) for k, v in dense.items()]
        return UnitLocals(state, stacked, torch.stack(own), torch.stack(diag), blocks)

    def state_jvp(self, x_t: torch.Tensor, prev: Any, v: torch.Tensor) -> torch.Tensor:
        """J_t v [B, S] for a tangent v [B, S] of the state (one forward-mode derivative, no Jacobian built), by
        ``torch.func.jvp``; a subclass may write it in closed form (tested equal)."""
        with torch.no_grad():
            return jvp(lambda s: self.flatten(self(x_t, self.unflatten(s))), (self.flatten(prev),), (v,))[1]

    def jacobians(self, x_t: torch.Tensor, prev: Any) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """J_t = ∂s_t/∂s_{t−1} [B, S, S] and M̄_t = ∂s_t/∂θ {name: [B, S, *θ.shape]} by ``torch.func``."""
        params = {k: p.detach() for k, p in self.recurrent_parameters().items()}

        def step(p: dict[str, torch.Tensor], s: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
            new = functional_call(self, p, (x.unsqueeze(0), self.unflatten(s.unsqueeze(0))))
            return self.flatten(new).squeeze(0)

        flat = self.flatten(prev).detach()
        J = vmap(jacrev(step, argnums=1), in_dims=(None, 0, 0))(params, flat, x_t)
        M = vmap(jacrev(step, argnums=0), in_dims=(None, 0, 0))(params, flat, x_t)
        return J, M

    def recurrent_weights(self, W: torch.Tensor | None = None) -> torch.Tensor:
        """W_rec as it acts in the dynamics, or the same map applied to a raw matrix ``W`` of its shape (the
        initial W_rec, to show its change in the same form). Default: the matrix itself; a network with a
        sparsity mask or Dale's signs writes its own (rnn, lif)."""
        return self.W_rec if W is None else W
