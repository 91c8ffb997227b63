"""MDGL, multidigraph learning (Liu, Smith, Mihalas, Shea-Brown & Sümbül 2021, PNAS 118:e2111821118): e-prop plus a
cell-type-specific local modulatory signal, on the spiking ``lif`` network (with Dale's law, its cell types are
excitatory and inhibitory).

e-prop (``engine.rules.eprop_lif``) gives neuron p credit only for what its own spikes do to the output. MDGL adds
one more step of credit: a spike of p at t − 1 moves the membrane of every neuron j it reaches (W_jp), which changes
j's spikes at t (ψ_j), which the output judges (the learning signal of j). Written with the readout-filtered learning
signal M_t (eprop_lif Eq. 7, over the whole trial) and the trace e of eprop_lif Eq. (3),

    a_{j,t} = ψ_{j,t} M_{j,t}                               (what a change of j's membrane at t is worth)      (1)
    m_{p,t} = Σ_j W̃_jp a_{j,t}                              (the modulatory signal neuron p receives)          (2)
    ĝ_pq = Σ_t M_{p,t} e_{pq,t} + Σ_t m_{p,t} e_{pq,t−1}   (+ the regulariser's term of eprop_lif Eq. 6)      (3)

With W̃ = W (``weights="exact"``), Eq. (3) is the gradient truncated to two steps: autograd through the trial in which
the spikes sent through W are detached, plus one path z_p^{t−1} → v_j^t → z_j^t → readout per step (proven in the
tests). MDGL does not send W itself back — a synapse does not know the weights of the synapses it drives — but a
cell-type average, as if a neuromodulator released by type-β cells were read by type-γ receptors:

    W̃_jp = w̄_{type(j), type(p)} · [synapse p → j exists],    w̄_βγ = the mean of the existing W_jp, j ∈ β, p ∈ γ  (4)

(``weights="cell_type"``, the default). Without Dale's law there is one cell type and w̄ is one number.

Cost. Eq. (1) needs M_t, which sums the learning signal over the future of the trial (eprop_lif Eq. 7): this rule
takes the whole trial as one chunk, so besides e-prop's traces (eprop_lif Eq. 9) it keeps the trial's per-step
numbers:

    fixed_bytes = eprop_lif's traces,     per_step_bytes = B·(2m + 4n + O)                                      (5)

(Liu et al.'s online variant would delay the update instead; not built here.)
"""

from __future__ import annotations

from typing import Literal

import torch

from engine.rules import RULES
from engine.rules.base import Pass
from engine.rules.eprop_lif import EpropLIF, EpropLIFConfig, Traces, _backward_filter
from engine.tasks.base import Task
from engine.trial import Trial


class MDGLConfig(EpropLIFConfig):
    feedback: Literal["symmetric", "random", "adaptive"] = "symmetric"
    """How the output error reaches the neurons: W_outᵀ (symmetric), a fixed random matrix, or an adaptive one."""
    weights: Literal["cell_type", "exact"] = "cell_type"
    """What carries the modulatory signal of Eq. (2): the average weight between the two cells' types (MDGL), or the
    exact weight (the two-step truncation of the gradient, for comparison)."""


@RULES.register("mdgl")
class MDGL(EpropLIF):
    Config = MDGLConfig
    description = ("MDGL: e-prop plus a cell-type-specific modulatory signal from the neurons each cell drives "
                   "(average weights between cell types stand in for the exact ones).")
    reference = "Liu, Smith, Mihalas, Shea-Brown & Sümbül 2021, PNAS 118:e2111821118"
    approximates = (
        "With weights='exact' and symmetric feedback: autograd through the trial with the spikes sent through the "
        "recurrent weights detached, plus one step of credit through them (z^{t−1} → v^t → z^t → readout). With "
        "cell-type weights: the same with W replaced by its cell-type averages (Eq. 4).")
    online = False
    config: MDGLConfig

    def modulatory_weights(self, W: torch.Tensor) -> torch.Tensor:
        """W̃ of Eq. (4) (or W itself for ``weights="exact"``)."""
        if self.config.weights == "exact":
            return W
        mask = self.arch.rec_mask
        types = (self.arch.sign > 0).long()  # 1 excitatory, 0 inhibitory (one type without Dale's law)
        out = torch.zeros_like(W)
        for post in types.unique():
            for pre in types.unique():
                block = (types == post)[:, None] & (types == pre)[None, :] & (mask > 0)
                if block.any():
                    out[block] = W[block].mean()
        return out

    def gradients(self, task: Task, trial: Trial) -> tuple[dict[str, torch.Tensor], Pass]:
        arch = self.arch
        n, m = arch.n_units, arch.n_units + arch.n_inputs
        dtype = arch.W_rec.dtype
        reg = arch.config.rate_reg > 0
        with torch.no_grad():
            ch, y, eps = self._whole_trial(task, trial)  # ε [B, T, O]
            L = self.feedback.signal(eps)
            M = (1 - arch.kappa) * _backward_filter(L, arch.kappa)  # eprop_lif Eq. (7)
            mod = (ch.psi * M) @ self.modulatory_weights(ch.W)  # Eqs. (1)-(2)
            signal = M.clone()
            signal[:, :-1] += mod[:, 1:]  # Eq. (3): m_{t+1} meets e_t
            acc = Traces(torch.zeros(n, m, dtype=dtype), torch.zeros(n, m, dtype=dtype) if reg else None)
            self._accumulate(acc, ch, signal, 0.0, True)
            G = acc.G
            if acc.S is not None:
                G = G + arch.rate_signal_from_counts(ch.z.sum((0, 1)), trial.steps, trial.batch)[:, None] * acc.S
            grads = self._split(G, ch.W)
            grads["W_out"] = eps.flatten(0, 1).T @ ch.zf.flatten(0, 1)
            grads["b_out"] = eps.sum((0, 1))
        outputs = y.transpose(0, 1)
        Z = ch.z.transpose(0, 1)
        return grads, Pass(task.loss(outputs, trial), outputs, ch.zf.transpose(0, 1), {"spikes": Z})

    def signals(self, task: Task, trial: Trial) -> dict[str, torch.Tensor]:
        """For one trial (batch 1), the shown synapses' credit as MDGL computes it: ``learning_signal`` [T, k] is
        M_{j,t} + m_{j,t+1}, the readout-filtered signal plus the modulatory signal neuron j receives one step later,
        and ``eligibility_trace`` [T, k] is the unfiltered trace e_{ji,t} of eprop_lif Eq. (3). Their product summed
        over the trial is the synapse's row of Eq. (3) (the regulariser's term aside; tested against
        ``gradients``). e-prop's view (``EpropLIF.signals``) would leave the modulatory term out."""
        rows, cols = self.shown
        arch = self.arch
        with torch.no_grad():
            ch, _, eps = self._whole_trial(task, trial)
            M = (1 - arch.kappa) * _backward_filter(self.feedback.signal(eps), arch.kappa)  # eprop_lif Eq. (7)
            mod = (ch.psi * M) @ self.modulatory_weights(ch.W)  # Eqs. (1)-(2)
            signal = M.clone()
            signal[:, :-1] += mod[:, 1:]  # Eq. (3): m_{t+1} meets e_t
            trace, _ = self._shown_traces(ch, rows, cols)
        return self._with_alignment({"learning_signal": signal[0, :, rows], "eligibility_trace": trace})

    def memory(self, batch: int) -> tuple[int, int]:
        """Eq. (5)."""
        fixed, _ = super().memory(batch)
        n, m, O = self.arch.n_units, self.arch.n_units + self.arch.n_inputs, self.arch.n_outputs
        return fixed, batch * (2 * m + 4 * n + O) * self.itemsize()

    def buffer_bytes(self, batch: int, steps: int) -> int:
        return 0
