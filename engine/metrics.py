"""Measures reported for every update: gradient alignment with BPTT and the rule's cost.

Alignment of a rule's gradient ĝ with the true gradient g on the same batch and parameters is the cosine

    cos(ĝ, g) = ⟨ĝ, g⟩ / (‖ĝ‖ ‖g‖)                                               (1)

1 means the rule points exactly downhill; 0 means it is no better than a random direction. Eq. (1) is taken over
three sets of parameters, in this order:

    recurrent = Eq. (1) over the recurrent parameters R (W_rec, W_in, b: every parameter but the readout)   (2)
    all       = Eq. (1) over every parameter                                                               (3)
    per tensor, one key per parameter name

Every rule gets the readout's exact gradient (``engine.rules.base`` Eq. 2), and the readout gradient is often the
largest part of g, so Eq. (3) rewards a rule for credit it does not assign to the network. Eq. (2) measures only
the credit that reaches the network: it is the headline. It is ``None`` when the rule trains no recurrent
parameter (readout-only: ĝ_R = 0, so Eq. 1 is undefined) — such a rule assigns no credit to the network. A
parameter the rule does not train counts with ĝ = 0 in Eq. (3).
"""

from __future__ import annotations

import math
from typing import Iterable

import torch


def cosine(a: torch.Tensor, b: torch.Tensor) -> float | None:
    """Eq. (1); ``None`` where either vector is zero (the angle is undefined)."""
    na, nb = a.norm().item(), b.norm().item()
    if na == 0.0 or nb == 0.0 or not math.isfinite(na * nb):
        return None
    c = float((a.double().flatten() @ b.double().flatten()).item() / (na * nb))
    return max(-1.0, min(1.0, c))


def _joint(rg: dict[str, torch.Tensor], tg: dict[str, torch.Tensor], names: list[str]) -> float | None:
    if not names:
        return None
    return cosine(torch.cat([rg[k].flatten() for k in names]), torch.cat([tg[k].flatten() for k in names]))


def alignment(rule_grads: dict[str, torch.Tensor], true_grads: dict[str, torch.Tensor],
              recurrent: Iterable[str]) -> dict[str, float | None]:
    """``{"recurrent": Eq. 2, "all": Eq. 3, name: Eq. 1 per tensor}``, in that order. ``recurrent`` names the
    recurrent parameters (``arch.recurrent_parameters()``); a rule that gives none of them a gradient (it does not
    train them) has ``recurrent`` = None, as has a rule whose recurrent gradient is zero."""
    names = list(true_grads)
    rg = {k: rule_grads.get(k, torch.zeros_like(true_grads[k])) for k in names}
    rec = [k for k in names if k in set(recurrent)]
    trained = [k for k in rec if k in rule_grads]
    out: dict[str, float | None] = {"recurrent": _joint(rg, true_grads, rec) if trained else None,
                                    "all": _joint(rg, true_grads, names)}
    for k in names:
        out[k] = cosine(rg[k], true_grads[k])
    return out
