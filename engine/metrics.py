"""Measures reported for every update: gradient alignment with BPTT and the rule's cost.

Alignment of a rule's gradient ĝ with the true gradient g on the same batch and parameters is the cosine

    cos(ĝ, g) = ⟨ĝ, g⟩ / (‖ĝ‖ ‖g‖)                                               (1)

over all parameters (a parameter the rule does not train counts with ĝ = 0) and per parameter group. 1 means the
rule points exactly downhill; 0 means it is no better than a random direction.
"""

from __future__ import annotations

import math

import torch


def cosine(a: torch.Tensor, b: torch.Tensor) -> float | None:
    """Eq. (1); ``None`` where either vector is zero (the angle is undefined)."""
    na, nb = a.norm().item(), b.norm().item()
    if na == 0.0 or nb == 0.0 or not math.isfinite(na * nb):
        return None
    c = float((a.double().flatten() @ b.double().flatten()).item() / (na * nb))
    return max(-1.0, min(1.0, c))


def alignment(rule_grads: dict[str, torch.Tensor], true_grads: dict[str, torch.Tensor]) -> dict[str, float | None]:
    """Cosine overall (key ``"all"``) and per parameter group (Eq. 1)."""
    names = list(true_grads)
    rg = {k: rule_grads.get(k, torch.zeros_like(true_grads[k])) for k in names}
    out: dict[str, float | None] = {"all": cosine(torch.cat([rg[k].flatten() for k in names]),
                                                  torch.cat([true_grads[k].flatten() for k in names]))}
    for k in names:
        out[k] = cosine(rg[k], true_grads[k])
    return out
