"""Per-synapse credit on the example trial, for rules that keep eligibility traces (e-prop, RFLO, SnAp-1 on rate
networks; e-prop and MDGL on spiking ones).

Such a rule shows a few synapses W_ji (``rule.shown`` = rows j, columns i) and, through ``rule.signals``, each one's
eligibility trace e_ji(t) and the learning signal L_j(t) of its postsynaptic unit. The rule's update of that
synapse is the sum over the trial of their product,

    c_ji(t) = L_j(t) e_ji(t),        ΔW_ji ∝ −Σ_t c_ji(t)                                                 (1)

(``engine.rules.traces`` Eq. 2; ``engine.rules.eprop_lif`` with the readout-filtered trace; ``engine.rules.mdgl``
with its learning signal including the modulatory term and the unfiltered trace). The page draws the
three curves per synapse; this view adds which synapses they are and c of Eq. (1).

The matrix the indices refer to: the first parameter of the rule's first block of unit locals (``W_rec`` in the
rnn, ``W_hz`` in a GRU) for trace rules, and the recurrent matrix ``W_rec`` (as it acts) for spiking rules, which
have no blocks.

Which synapses. The rule picks them when it is built (the strongest initial weights). In a sparsely firing spiking
network such a synapse often has a trace that stays 0 on the example trial (its presynaptic neuron is silent, or
its postsynaptic one never comes near threshold, where the pseudo-derivative lives), and its curves would say
nothing. So on the run's first snapshot every shown synapse whose trace is 0 throughout is replaced by the free
synapse with the largest trace: the rule's own ``signals`` are computed for every synapse W_ji (i ≠ j, nonzero as
the matrix acts) among the ``CANDIDATES`` most active units, and ranked by

    s_ji = max_t |e_ji(t)|,        distinct postsynaptic units first.                                      (2)

The choice then stays for the run (the page follows the same synapses).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch


def synapse_view(rule: Any, signals: dict[str, np.ndarray]) -> dict[str, Any] | None:
    """``rows``, ``cols`` [k], ``credit`` [T, k] (Eq. 1) and ``weight`` (the matrix's name) for a rule that shows
    synapses and sent both signals; ``None`` otherwise."""
    shown = getattr(rule, "shown", None)
    L, e = signals.get("learning_signal"), signals.get("eligibility_trace")
    if shown is None or L is None or e is None or L.shape != e.shape:
        return None
    rows, cols = (np.asarray(x, dtype=np.float32).reshape(-1) for x in shown)
    return {"rows": rows, "cols": cols, "credit": (L * e).astype(np.float32), "weight": shown_weight(rule)}  # Eq. (1)


def shown_weight(rule: Any) -> str:
    """The name of the matrix the shown synapses' indices refer to (see the module note)."""
    blocks = getattr(rule, "blocks", None)
    return next(iter(blocks[0])) if blocks else "W_rec"


#: Units (the most active on the example trial) among which replacement synapses are sought (Eq. 2).
CANDIDATES = 24


def refine_shown(rule: Any, weights: np.ndarray, activity: np.ndarray, trace: np.ndarray,
                 measure: Callable[[], np.ndarray]) -> bool:
    """Replace the rule's shown synapses whose ``trace`` [T, k] is 0 throughout by the best free ones of Eq. (2).
    ``weights``: the matrix they index, as it acts [n, ≥n]; ``activity``: the example trial's [T, n];
    ``measure()``: the rule's eligibility traces [T, k'] for whatever ``rule.shown`` holds when it is called.
    True if any changed (``rule.shown`` is then the new choice)."""
    dead = np.abs(trace).max(0) == 0
    if not dead.any():
        return False
    kind = rule.shown[0].dtype
    rows, cols = (np.asarray(x).reshape(-1).astype(np.int64) for x in rule.shown)
    n = activity.shape[1]
    units = np.argsort(-np.abs(activity).mean(0), kind="stable")[:CANDIDATES]
    pairs = [(int(j), int(i)) for j in units for i in units if i != j and weights[j, i] != 0]
    if not pairs:
        return False
    before = rule.shown
    rule.shown = tuple(torch.as_tensor(v, dtype=kind) for v in zip(*pairs))
    try:
        score = np.abs(measure()).max(0)  # Eq. (2)
    finally:
        rule.shown = before
    order = [pairs[p] for p in np.argsort(-score, kind="stable") if score[p] > 0]
    taken = {(int(r), int(c)) for r, c, d in zip(rows, cols, dead) if not d}
    used = {r for r, _ in taken}
    changed = False
    for k in np.flatnonzero(dead):
        pick = next((rc for rc in order if rc not in taken and rc[0] not in used), None) \
            or next((rc for rc in order if rc not in taken), None)
        if pick is None:
            break
        rows[k], cols[k] = pick
        taken.add(pick)
        used.add(pick[0])
        changed = True
    if changed:
        rule.shown = (torch.as_tensor(rows, dtype=kind), torch.as_tensor(cols, dtype=kind))
    return changed


def pick_synapse(rule: Any, shape: tuple[int, ...], row: int, col: int) -> bool:
    """Make W[row, col] of the shown matrix (of ``shape``) the first shown synapse, the others moving down one and
    the last dropping out; False (nothing changes) for a rule that shows no synapses, indices outside the matrix or
    a synapse already first."""
    shown = getattr(rule, "shown", None)
    if shown is None or len(shape) != 2 or not (0 <= row < shape[0] and 0 <= col < shape[1]):
        return False
    rows, cols = (x.tolist() for x in shown)
    if rows and (rows[0], cols[0]) == (row, col):
        return False
    keep = [(r, c) for r, c in zip(rows, cols) if (r, c) != (row, col)][: max(len(rows) - 1, 0)]
    pairs = [(row, col), *keep]
    rule.shown = tuple(torch.as_tensor(v, dtype=shown[0].dtype) for v in zip(*pairs))
    return True
