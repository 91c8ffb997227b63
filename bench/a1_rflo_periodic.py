"""Anchor A1 (Murray 2019, eLife 8:e43299; ``RFLO_Example.ipynb``): RFLO learns a periodic output about as well as BPTT.

Murray's setting, in the lab's engine:

* network: N = 50 tanh units, τ = 10 steps (α = 0.1), W_rec = 1.5·N(0, 1)/√N (gain 1.5), W_out = 0.1·U(−1, 1)/√N,
  no bias (b is held at 0 here), initial state h_0 = 0.1 (rnn setting ``h0``), zero input;
* task: T = 100 steps, target y*_t = sin(2πt/T) + 0.5 sin(4πt/T) + 0.25 sin(8πt/T) on every trial
  (``pattern_generation`` with ``input="none"``, ``noise=0``);
* learning: one trial per update (batch 1), plain SGD with η = 0.03 on W_rec and W_out (η_in = 0: with zero input
  W_in has no effect), on the loss

      L = (1/T) Σ_t ½ (y_t − y*_t)²                                                            (1)

  whose gradient step −η ∂L/∂W_out = (η/T) Σ_t err_t h_tᵀ is the notebook's ΔW_out; RFLO's feedback B ~ N(0, 1/n_out).

Reported: Eq. (1) averaged over the last 100 trials, every ``--every`` trials and at the end. The anchor, after
10 000 trials: BPTT 2.3e-4, RFLO 1.5e-4.

Measured here (seed 0, one thread, on two shared cores; BPTT and readout stopped early for time):

    trials        1000     2000     3000     4500     6000     8000     10000
    RFLO        1.8e-2   9.9e-3   5.9e-3   3.2e-3   1.9e-3   9.7e-4   5.3e-4
    BPTT        1.9e-2   1.1e-2   7.6e-3   4.2e-3      —        —        —
    readout     4.2e-2   3.8e-2   3.6e-2      —        —        —        —

RFLO keeps pace with BPTT trial for trial (as in the anchor, slightly ahead) and is still falling at 10 000 trials
(5.3e-4, 3.5× the anchor's 1.5e-4); readout-only, which can only reweight the fixed network's deterministic
trajectory from h_0 = 0.1, levels off near 3.6e-2.

    .venv/bin/python bench/a1_rflo_periodic.py --trials 10000 [--rules bptt,rflo,readout] [--seed 0]
"""

from __future__ import annotations

import argparse
import time

import torch

from engine.spec import RunSpec
from engine.training import Trainer, derived_generator

NET = {"hidden": 50, "alpha": 0.1, "gain": 1.5, "h0": 0.1}
TASK = {"input": "none", "noise": 0.0, "steps": 100, "sines": 3, "amplitudes": "fixed"}


def trainer(rule: str, trials: int, seed: int) -> Trainer:
    t = Trainer(RunSpec(task="pattern_generation", task_config=TASK, arch_config=NET, rule=rule, batch=1,
                        steps=trials, seed=seed, alignment_every=0, optim={"name": "sgd", "lr": 0.03, "clip": 0.0}))
    n = NET["hidden"]
    g = derived_generator(seed, "a1-readout")
    with torch.no_grad():  # Murray's readout start and no bias
        t.arch.W_out.copy_(0.1 * (2 * torch.rand(t.arch.W_out.shape, generator=g) - 1) / n ** 0.5)
        t.arch.b.zero_()
    return t


def run(rule: str, trials: int, seed: int, every: int) -> float:
    t, losses, start = trainer(rule, trials, seed), [], time.perf_counter()
    while not t.finished:
        losses.append(t.train_step().loss)
        with torch.no_grad():
            t.arch.b.zero_()  # the notebook's network has no bias
        if len(losses) % every == 0 or t.finished:
            late = sum(losses[-100:]) / len(losses[-100:])
            print(f"{rule:<8} trial {len(losses):>6}: loss (last 100) {late:.2e}  "
                  f"[{time.perf_counter() - start:.0f} s]", flush=True)
    return sum(losses[-100:]) / len(losses[-100:])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, default=10_000)
    p.add_argument("--rules", default="bptt,rflo,readout")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--every", type=int, default=1000)
    a = p.parse_args()
    torch.set_num_threads(1)
    final = {rule: run(rule, a.trials, a.seed, a.every) for rule in a.rules.split(",")}
    print(f"A1 after {a.trials} trials, loss ½·mean(err²) over the last 100 trials: "
          + ", ".join(f"{r} {v:.2e}" for r, v in final.items()) + "  (anchor: BPTT 2.3e-4, RFLO 1.5e-4)")


if __name__ == "__main__":
    main()
