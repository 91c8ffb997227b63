"""ms per update and state bytes of every (architecture, rule) pair next to BPTT on the same network, side by side
(rules take turns, so a busy machine slows them alike). Add task, batch 32, one torch thread.

    .venv/bin/python bench/arch_rules.py [--n 64] [--steps 100] [--arch rnn,gru]
"""

from __future__ import annotations

import argparse

from engine.archs import ARCHS
from engine.bench import run_bench


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--arch", default=",".join(ARCHS.names()))
    ap.add_argument("--rules", default=None, help="comma-separated (default: every rule that trains the arch)")
    args = ap.parse_args()
    print(f"{'arch':<6} {'rule':<18} {'n':>4} {'T':>5} {'ms/update':>10} {'×bptt':>7} {'state KiB':>10}  note")
    for arch in args.arch.split(","):
        rules = args.rules.split(",") if args.rules else None
        for r in run_bench([args.n], [args.steps], args.batch, rules=rules, threads=1, repeats=5, arch=arch):
            ms = f"{r['ms']:.1f}" if r["ms"] is not None else "-"
            ratio = f"{r['ms_ratio']:.2f}" if r["ms_ratio"] is not None else "-"
            state = f"{r['state_bytes'] / 1024:.0f}" if r["state_bytes"] is not None else "-"
            print(f"{arch:<6} {r['rule']:<18} {r['n']:>4} {r['steps']:>5} {ms:>10} {ratio:>7} {state:>10}  {r['note']}")


if __name__ == "__main__":
    main()
