"""Cost of every credit rule, side by side: ms per update and rule-state bytes, as ratios to BPTT.

    python bench/rules.py            # n ∈ {32, 64, 128} × T ∈ {50, 100, 200}, batch 32
    python bench/rules.py --quick    # n ∈ {32, 128}, T = 100 (under a minute)
    python bench/rules.py --threads 1
"""

from __future__ import annotations

import argparse

import torch

from engine.bench import SIZES, STEPS, format_table, run_bench


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer sizes and repeats")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own choice)")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--rules", nargs="*", default=None, help="rules to time (default: all registered)")
    args = parser.parse_args()
    sizes, steps, repeats = ((32, 128), (100,), 3) if args.quick else (SIZES, STEPS, 5)
    rows = run_bench(sizes, steps, batch=args.batch, rules=args.rules, threads=args.threads, repeats=repeats)
    threads = args.threads if args.threads is not None else torch.get_num_threads()
    print(f"batch {args.batch}, {threads} thread(s), median of {repeats} updates; ratios are to bptt at the same size")
    print(format_table(rows))


if __name__ == "__main__":
    main()
