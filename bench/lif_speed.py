"""ms per update and state bytes of BPTT, e-prop and MDGL on the spiking network ``lif`` at issue 8's size: n = 100
(50 LIF + 50 ALIF), T = 1000 steps, batch 64, float32, one torch thread, all in this one process, taken in turn.

The task is the evidence-accumulation cue task stretched to exactly 1000 steps (7 cues of 50 steps with 25-step
gaps, a 400-step delay, 75 recall steps), 10 channels per population; dt = 1 ms as in the e-prop paper. Each rule
is timed on ``repeats`` updates (median), gradients only (the optimizer step is the same for all), as CPU time of
this process (``time.process_time``; one thread, so CPU time is compute time even when other jobs share the cores,
which inflate the wall time reported beside it). ``bptt`` runs the trial as one autograd node with a hand-written
backward pass (``engine.archs.lif_trial``); ``bptt_stepwise`` is the same gradient by autograd on the step-by-step
unroll (what ``bptt`` did before), timed alongside for the ratio. The lab's
reference for snntorch on these machines is 1.1–1.5 s per update; the target is our BPTT ≤ 0.8 × that and
e-prop ≤ our BPTT.

    python bench/lif_speed.py [--repeats 5] [--threads 1]
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import time

import torch

from engine.archs.lif import LIF, LIFConfig
from engine.rules import RULES
from engine.tasks import TASKS

SNNTORCH_S = (1.1, 1.5)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--hidden", type=int, default=100)
    ap.add_argument("--batch", type=int, default=64)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    task_cls = TASKS.get("evidence_accumulation")
    task = task_cls(task_cls.Config(cues=7, cue_steps=50, gap_steps=25, delay=400, recall_steps=75, population=10,
                                    cue_rate=1.0, noise=0.25))
    arch = LIF(LIFConfig(hidden=args.hidden, input_rate=40.0), task.n_inputs, task.n_outputs,
               torch.Generator().manual_seed(0))
    trial = task.sample(args.batch, torch.Generator().manual_seed(1))
    assert trial.steps == 1000
    stepwise = copy.deepcopy(arch)
    stepwise.run = stepwise.run_stepwise  # type: ignore[method-assign]  # BPTT as autograd on the step unroll
    rules = {
        "bptt": RULES.get("bptt")(RULES.get("bptt").Config(), arch, torch.Generator()),
        "bptt_stepwise": RULES.get("bptt")(RULES.get("bptt").Config(), stepwise, torch.Generator()),
        "eprop_lif": RULES.get("eprop_lif")(RULES.get("eprop_lif").Config(), arch, torch.Generator().manual_seed(0)),
        "mdgl": RULES.get("mdgl")(RULES.get("mdgl").Config(), arch, torch.Generator().manual_seed(0)),
    }
    times: dict[str, list[float]] = {k: [] for k in rules}
    cpu_times: dict[str, list[float]] = {k: [] for k in rules}
    for name, rule in rules.items():  # warm-up
        rule.gradients(task, trial)
    for _ in range(args.repeats):
        for name, rule in rules.items():
            start, cpu = time.perf_counter(), time.process_time()
            rule.gradients(task, trial)
            times[name].append(time.perf_counter() - start)
            cpu_times[name].append(time.process_time() - cpu)
    rows = []
    bptt_ms = statistics.median(cpu_times["bptt"]) * 1000
    for name, rule in rules.items():
        ms = statistics.median(cpu_times[name]) * 1000
        fixed, per_step = rule.memory(args.batch)
        rows.append({"rule": name, "cpu_ms_per_update": round(ms, 1),
                     "wall_ms_per_update": round(statistics.median(times[name]) * 1000, 1), "vs_bptt": round(ms / bptt_ms, 2),
                     "vs_snntorch": [round(ms / 1000 / s, 2) for s in SNNTORCH_S],
                     "state_bytes": rule.state_bytes(args.batch, trial.steps), "fixed_bytes": fixed,
                     "per_step_bytes": per_step, "buffer_bytes": rule.buffer_bytes(args.batch, trial.steps)})
    print(json.dumps({"n": args.hidden, "T": trial.steps, "batch": args.batch, "threads": args.threads,
                      "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
