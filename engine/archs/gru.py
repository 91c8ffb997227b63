"""The gated recurrent unit, GRU (Cho et al. 2014), in the form PyTorch uses, without a recurrent bias:

    z_t = σ(W_hz h_{t−1} + W_xz x_t + b_z)                       update gate                            (1)
    r_t = σ(W_hr h_{t−1} + W_xr x_t + b_r)                       reset gate                             (2)
    n_t = tanh(W_xn x_t + b_n + r_t ⊙ (W_hn h_{t−1}))           candidate                              (3)
    h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t−1}                        gated leak                             (4)
    y_t = W_out h_t + b_out                                                                              (5)

with h_0 = 0. The update gate is a leak that each unit sets for itself at each step — the rnn's fixed 1 − α made
input-dependent — which is why gated units hold information over long delays, and why cortical microcircuits have
been mapped onto them (Costa et al. 2017, NeurIPS, "Cortical microcircuits as gated-recurrent neural networks").

Unit locals (``engine.archs.base`` Eqs. 4–6). The recurrent input is h_{t−1} wherever a matrix W_h· multiplies it;
the own-state path is the gated leak of Eq. (4) alone. With g_t = (1 − z_t)(1 − n_t²) and v_t = W_hn h_{t−1}:

    d_t = z_t                                                                                            (6)
    D_t = z_t + (h_{t−1} − n_t) z_t(1 − z_t) diag(W_hz) + g_t [r_t diag(W_hn) + v_t r_t(1 − r_t) diag(W_hr)]  (7)
    ē for (W_hz, W_xz, b_z): post (h_{t−1} − n_t) z_t(1 − z_t),        pre [h_{t−1}; x_t; 1]            (8)
    ē for (W_hr, W_xr, b_r): post g_t v_t r_t(1 − r_t),                pre [h_{t−1}; x_t; 1]            (9)
    ē for W_hn:              post g_t r_t,                             pre h_{t−1}                      (10)
    ē for (W_xn, b_n):       post g_t,                                 pre [x_t; 1]                     (11)

four factored blocks (a test proves them equal to the ``torch.func`` default). RTRL's full Jacobian is Eq. (7) with
the whole matrices in place of their diagonals (closed form of ``jacobians``, tested against ``torch.func``):

    J_t = diag(z_t) + diag(post_z) W_hz + diag(post_r) W_hr + diag(g_t r_t) W_hn                          (12)
 Weights start uniform in
±scale/√n (PyTorch's GRU initialisation with scale 1); biases at zero.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from pydantic import Field
from torch import nn

from engine.archs import ARCHS
from engine.archs.base import Architecture, Block, UnitLocals
from engine.config import ConfigModel


class GRUState(NamedTuple):
    h: torch.Tensor
    """Activity h_t [B, n] (Eq. 4)."""


class GRUGates(NamedTuple):
    z: torch.Tensor
    """Update gates z_t [T, B, n] (Eq. 1)."""
    r: torch.Tensor
    """Reset gates r_t [T, B, n] (Eq. 2)."""


class GRUConfig(ConfigModel):
    hidden: int = Field(32, ge=2, le=1024)
    """Number of gated units n."""
    scale: float = Field(1.0, gt=0.0, le=5.0)
    """Initial weights are uniform in ±scale/√n (1: PyTorch's GRU)."""


#: The recurrent matrices W_h· (Eqs. 1–3), then the input matrices W_x· and biases, gate by gate.
GATES = ("z", "r", "n")


@ARCHS.register("gru")
class GRU(Architecture):
    Config = GRUConfig
    description = "Gated recurrent units: each unit's update gate sets its own leak, h ← (1−z)·n + z·h."
    reference = "Cho et al. 2014, EMNLP; Costa et al. 2017, NeurIPS"
    provides = frozenset({"differentiable_step", "jacobians", "unit_locals"})
    shown_weights = ("W_hz", "W_hr", "W_hn", "W_xz", "W_xr", "W_xn", "W_out")
    state_variables = {"update_gate": "update gate z_t: near 1 the unit keeps its state, near 0 it takes "
                                      "the new candidate",
                       "reset_gate": "reset gate r_t: how much of the recurrent input reaches the candidate"}
    config: GRUConfig

    def __init__(self, config: GRUConfig, n_inputs: int, n_outputs: int, generator: torch.Generator,
                 dtype: torch.dtype = torch.float32):
        super().__init__(config, n_inputs, n_outputs)
        n, g, bound = config.hidden, generator, config.scale / config.hidden ** 0.5

        def uniform(*shape: int) -> nn.Parameter:
            return nn.Parameter((torch.rand(*shape, generator=g, dtype=dtype) * 2 - 1) * bound)

        for gate in GATES:
            setattr(self, f"W_h{gate}", uniform(n, n))
        for gate in GATES:
            setattr(self, f"W_x{gate}", uniform(n, n_inputs))
        for gate in GATES:
            setattr(self, f"b_{gate}", nn.Parameter(torch.zeros(n, dtype=dtype)))
        self.W_out = nn.Parameter(torch.randn(n_outputs, n, generator=g, dtype=dtype) / n ** 0.5)
        self.b_out = nn.Parameter(torch.zeros(n_outputs, dtype=dtype))

    @property
    def n_units(self) -> int:
        return self.config.hidden

    def init_state(self, batch: int) -> GRUState:
        return GRUState(self.W_hz.new_zeros(batch, self.n_units))

    def gates(self, x_t: torch.Tensor, h: torch.Tensor, z_in: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """z_t, r_t, n_t and v_t = W_hn z_in of Eqs. (1)–(3), with z_in the recurrent input (h_{t−1})."""
        z = torch.sigmoid(z_in @ self.W_hz.T + x_t @ self.W_xz.T + self.b_z)  # Eq. (1)
        r = torch.sigmoid(z_in @ self.W_hr.T + x_t @ self.W_xr.T + self.b_r)  # Eq. (2)
        v = z_in @ self.W_hn.T
        n = torch.tanh(x_t @ self.W_xn.T + self.b_n + r * v)  # Eq. (3)
        return z, r, n, v

    def forward(self, x_t: torch.Tensor, state: GRUState, presyn: torch.Tensor | None = None) -> GRUState:
        """Eq. (4); ``presyn`` replaces h_{t−1} where the recurrent matrices multiply it (archs.base Eq. 4)."""
        h = state.h
        z, _, n, _ = self.gates(x_t, h, h if presyn is None else presyn)
        return GRUState(torch.lerp(n, h, z))  # (1 − z) n + z h

    def activity(self, state: GRUState) -> torch.Tensor:
        return state.h

    def unit_locals(self, inputs: torch.Tensor, state: GRUState) -> UnitLocals:
        """Eqs. (6)–(11) in closed form, K steps without a graph."""
        n_in = self.n_inputs
        with torch.no_grad():
            h = state.h.detach()
            hs, own, diag, posts, pres = [], [], [], [], []
            dz, dr, dn = (torch.diagonal(getattr(self, f"W_h{k}")).detach() for k in GATES)
            for x_t in inputs:
                z, r, n, v = (t.detach() for t in self.gates(x_t, h, h))
                g = (1 - z) * (1 - n * n)
                pz, pr = (h - n) * z * (1 - z), g * v * r * (1 - r)  # Eqs. (8)-(9)
                own.append(z)  # Eq. (6)
                diag.append(z + pz * dz + g * r * dn + pr * dr)  # Eq. (7)
                posts.append((pz, pr, g * r, g))
                pres.append(torch.cat([h, x_t, torch.ones_like(h[:, :1])], -1))
                h = torch.lerp(n, h, z)
                hs.append(h)
            pre = torch.stack(pres)
            post = [torch.stack(p) for p in zip(*posts)]
            n_h = self.n_units
            blocks = [
                Block({"W_hz": n_h, "W_xz": n_in, "b_z": 1}, post[0], pre),  # Eq. (8)
                Block({"W_hr": n_h, "W_xr": n_in, "b_r": 1}, post[1], pre),  # Eq. (9)
                Block({"W_hn": n_h}, post[2], pre[..., :n_h]),  # Eq. (10)
                Block({"W_xn": n_in, "b_n": 1}, post[3], pre[..., n_h:]),  # Eq. (11)
            ]
            return UnitLocals(GRUState(h), GRUState(torch.stack(hs)), torch.stack(own), torch.stack(diag), blocks)

    def state_jvp(self, x_t: torch.Tensor, prev: GRUState, v: torch.Tensor) -> torch.Tensor:
        """J_t v of Eq. (12) without forming J_t."""
        with torch.no_grad():
            h = prev.h
            z, r, n, u = self.gates(x_t, h, h)
            g = (1 - z) * (1 - n * n)
            return (z * v + (h - n) * z * (1 - z) * (v @ self.W_hz.T) + g * u * r * (1 - r) * (v @ self.W_hr.T)
                    + g * r * (v @ self.W_hn.T))

    def jacobians(self, x_t: torch.Tensor, prev: GRUState) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Eq. (12) and M̄_t[k, (i, j)] = δ_ki post_i pre_j from the blocks of Eqs. (8)–(11)."""
        loc = self.unit_locals(x_t.unsqueeze(0), prev)
        (pz, pre), (pr, _), (pn, _), _ = ((b.post[0], b.pre[0]) for b in loc.blocks)
        W = {k: getattr(self, f"W_h{k}").detach() for k in GATES}
        J = torch.diag_embed(loc.own[0]) + pz.unsqueeze(-1) * W["z"] + pr.unsqueeze(-1) * W["r"] \
            + pn.unsqueeze(-1) * W["n"]  # Eq. (12)
        eye = torch.eye(self.n_units, dtype=J.dtype)
        M = {}
        for block in loc.blocks:
            post, pre, start = block.post[0], block.pre[0], 0
            for name, width in block.columns.items():
                m = eye[None, :, :, None] * (post[:, None, :, None] * pre[:, None, None, start:start + width])
                M[name] = m.squeeze(-1) if name.startswith("b_") else m
                start += width
        return J, M

    def trajectory(self, inputs: torch.Tensor) -> GRUGates:
        """The gates of every step of a trial [T, B, I], time first (no graph; for display)."""
        with torch.no_grad():
            h, zs, rs = self.init_state(inputs.shape[1]).h, [], []
            for x_t in inputs:
                z, r, n, _ = self.gates(x_t, h, h)
                h = torch.lerp(n, h, z)
                zs.append(z)
                rs.append(r)
        return GRUGates(torch.stack(zs), torch.stack(rs))

    def variables(self, gates: GRUGates) -> dict[str, torch.Tensor]:
        """The variables of :attr:`state_variables` from :meth:`trajectory`."""
        return {"update_gate": gates.z, "reset_gate": gates.r}
