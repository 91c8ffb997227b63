"""Issue 10's figures, each a ratio measured side by side in this one process (one torch thread):

1. engine BPTT / a plain hand-written PyTorch loop (``engine.bench_reference``), n ∈ {32, 128}, T ∈ {50, 100, 200};
2. e-prop and RFLO / engine BPTT at every bench size (``engine.bench.run_bench``);
3. engine RTRL / the numpy reference (``bench/numpy_rtrl.py``, batch 1, float64) per sample-step, n ∈ {32, 64}, and
   the engine's per-sample cost at batch 32 against batch 1;
4. peak memory of one BPTT and one RTRL update against the rule's ``state_bytes``: the growth of the peak resident
   set over one update (Linux: freed heap handed back with ``malloc_trim``, the peak VmHWM reset through
   /proc/self/clear_refs, then VmHWM − VmRSS), each in a fresh subprocess after a warm-up of the same rule on a
   4-unit network (tracemalloc does not see torch's allocations; torch has no CPU allocator
   statistics). It counts everything the update touches — the Pass (activity, outputs), gradients, temporaries.

    python bench/speed.py            # everything
    python bench/speed.py --quick    # fewer sizes and repeats (a few minutes)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # one thread for numpy's BLAS too
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from numpy_rtrl import rtrl_gradients  # noqa: E402

from engine.archs.rnn import RNN, RNNConfig  # noqa: E402
from engine.bench import format_reference, format_table, reference_rows, run_bench  # noqa: E402
from engine.rules import RULES  # noqa: E402
from engine.tasks.add import Add, AddConfig  # noqa: E402


def _timed(f) -> float:
    start = time.perf_counter()
    f()
    return time.perf_counter() - start


def rtrl_rows(sizes=(32, 64), T: int = 50, repeats: int = 5) -> list[dict]:
    """Per sample-step µs of the engine's RTRL (float32 and float64 at batch 1, float32 at batch 32) and of the
    numpy reference (batch 1, float64), taken in turn; also the largest relative gradient gap engine/numpy (float64)."""
    rows = []
    task = Add(AddConfig(steps=T))
    for n in sizes:
        one, many = task.sample(1, torch.Generator().manual_seed(1)), task.sample(32, torch.Generator().manual_seed(1))
        runs = {}
        for dtype, label in ((torch.float32, "f32"), (torch.float64, "f64")):
            arch = RNN(RNNConfig(hidden=n), 2, 2, torch.Generator().manual_seed(0), dtype=dtype)
            rule = RULES.get("rtrl")(RULES.get("rtrl").Config(max_memory_mb=4096), arch, torch.Generator())
            runs[f"engine {label} b1"] = (lambda r=rule, t=one.to(dtype): r.gradients(task, t), T)
            if dtype == torch.float32:
                runs["engine f32 b32"] = (lambda r=rule: r.gradients(task, many), 32 * T)
            else:
                p = {k: v.detach().numpy() for k, v in arch.named_parameters()}
                x, y, m = (a[:, 0].double().numpy() for a in (one.inputs, one.targets, one.mask))
                ref = rtrl_gradients(p["W_rec"], p["W_in"], p["b"], p["W_out"], p["b_out"], arch.alpha, 0.0, x, y, m)
                got, _ = rule.gradients(task, one.to(dtype))
                gap = max(float(np.abs(ref[k] - got[k].numpy()).max() / np.abs(ref[k]).max()) for k in ref)
                runs["numpy f64 b1"] = (lambda: rtrl_gradients(p["W_rec"], p["W_in"], p["b"], p["W_out"], p["b_out"],
                                                              arch.alpha, 0.0, x, y, m), T)
        for f, _ in runs.values():
            f()
        times = {k: [] for k in runs}
        for _ in range(repeats):
            for k, (f, samples) in runs.items():
                times[k].append(_timed(f) / samples * 1e6)
        us = {k: statistics.median(v) for k, v in times.items()}
        rows.append({"n": n, "steps": T, "us": us, "gap": gap})
    return rows


def format_rtrl(rows: list[dict]) -> str:
    out = ["RTRL per sample-step (µs), engine against the numpy reference (batch 1, float64), turn by turn"]
    for r in rows:
        us, ref = r["us"], r["us"]["numpy f64 b1"]
        out.append(f"n={r['n']:<3} T={r['steps']}: " + ", ".join(f"{k} {v:.0f}" for k, v in us.items()))
        out.append(f"       engine/numpy: f32 b1 {us['engine f32 b1'] / ref:.2f}, f64 b1 {us['engine f64 b1'] / ref:.2f}, "
                   f"f32 b32 {us['engine f32 b32'] / ref:.2f};  batch-32 / batch-1 per sample (f32) "
                   f"{us['engine f32 b32'] / us['engine f32 b1']:.2f};  |gradient gap| f64 {r['gap']:.1e}")
    return "\n".join(out)


_CHILD = """
import ctypes, json, sys, torch
torch.set_num_threads(1)
from engine.archs.rnn import RNN, RNNConfig
from engine.rules import RULES
from engine.tasks.add import Add, AddConfig
from engine.trial import Trial
name, n, T, B = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
task = Add(AddConfig(steps=T)); trial = task.sample(B, torch.Generator().manual_seed(1))
arch = RNN(RNNConfig(hidden=n), 2, 2, torch.Generator().manual_seed(0))
cls = RULES.get(name); rule = cls(cls.Config(**({"max_memory_mb": 4096} if name == "rtrl" else {})), arch, torch.Generator())
tiny = cls(cls.Config(), RNN(RNNConfig(hidden=4), 2, 2, torch.Generator().manual_seed(0)), torch.Generator())
tiny.gradients(task, Trial(trial.inputs[:2], trial.targets[:2], trial.mask[:2]))  # warm-up, nothing large kept
def status(key):
    return next(int(line.split()[1]) * 1024 for line in open("/proc/self/status") if line.startswith(key))
ctypes.CDLL("libc.so.6").malloc_trim(0)  # hand freed heap memory back, so the update cannot hide in it
open("/proc/self/clear_refs", "w").write("5")  # reset the peak (VmHWM) to the current resident set
before = status("VmRSS:")
grads, result = rule.gradients(task, trial)
peak = status("VmHWM:")
print(json.dumps({"peak": peak - before, "state": rule.state_bytes(B, T), "buffer": rule.buffer_bytes(B, T)}))
"""


def memory_rows(cases) -> list[dict]:
    rows = []
    for name, n, T, B in cases:
        out = subprocess.run([sys.executable, "-c", _CHILD, name, str(n), str(T), str(B)], capture_output=True,
                             text=True, check=True).stdout
        rows.append({"rule": name, "n": n, "steps": T, "batch": B, **json.loads(out)})
    return rows


def format_memory(rows: list[dict]) -> str:
    out = ["peak memory of one update (growth of the peak RSS in a fresh process) against state_bytes",
           f"{'rule':<6} {'n':>4} {'T':>5} {'B':>3} {'state MiB':>10} {'peak MiB':>9} {'peak/state':>11}"]
    for r in rows:
        out.append(f"{r['rule']:<6} {r['n']:>4} {r['steps']:>5} {r['batch']:>3} {r['state'] / 2**20:>10.2f} "
                   f"{r['peak'] / 2**20:>9.2f} {r['peak'] / r['state']:>11.2f}")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", nargs="*", default=["reference", "traces", "rtrl", "memory"])
    args = parser.parse_args()
    torch.set_num_threads(1)
    q = args.quick
    if "reference" in args.only:
        print(format_reference(reference_rows(steps=(100,) if q else (50, 100, 200), repeats=5 if q else 9)), "\n")
    if "traces" in args.only:
        rows = run_bench((32, 128) if q else (32, 64, 128), (100,) if q else (50, 100, 200), rules=["bptt", "eprop", "rflo"],
                         threads=1, repeats=5 if q else 9)
        print(format_table(rows), "\n")
    if "rtrl" in args.only:
        print(format_rtrl(rtrl_rows(repeats=3 if q else 5)), "\n")
    if "memory" in args.only:
        cases = [(r, 64, T, 32) for r in ("bptt", "rtrl") for T in (100, 400)] + [("bptt", 128, 1000, 32)]
        print(format_memory(memory_rows(cases)))


if __name__ == "__main__":
    main()
