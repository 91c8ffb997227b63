"""Learning at CI size: a small LSNN (`lif`, half adaptive) learns evidence accumulation with random-feedback e-prop;
a fixed random spiking network (`readout`) does not. Same seed ⇒ same history for every rule that trains `lif`."""

import pytest

from engine.spec import RunSpec
from engine.training import Trainer

# The e-prop paper's cue task at dt = 10 ms (cues 100 ms, gaps 50 ms, recall 150 ms, as in the paper), with a delay
# of 200 ms instead of 1050 ms; 10 channels per population at 40 Hz (noise population 10 Hz): T = 140 steps.
TASK = {"cues": 7, "cue_steps": 10, "gap_steps": 5, "delay": 20, "recall_steps": 15, "population": 10,
        "cue_rate": 1.0, "noise": 0.25}
NET = {"hidden": 50, "dt": 10.0, "input_rate": 40.0, "adaptive_fraction": 0.5}


def spec(rule, steps, **kw):
    return RunSpec(task="evidence_accumulation", arch="lif", rule=rule, steps=steps, batch=32, seed=0,
                   task_config=TASK, arch_config=NET, optim={"lr": 0.01}, alignment_every=0, **kw)


@pytest.mark.slow
def test_an_lsnn_learns_evidence_accumulation_with_random_eprop_and_a_reservoir_does_not():
    learned = Trainer(spec("eprop_lif", 100, rule_config={"feedback": "random"}))
    list(learned.run())
    fixed = Trainer(spec("readout", 100))
    list(fixed.run())
    acc = learned.summary()["final"]["accuracy"]
    floor = fixed.summary()["final"]["accuracy"]
    assert acc >= 0.8, acc  # measured 0.88
    assert floor <= 0.65, floor  # measured 0.50


@pytest.mark.parametrize("rule, cfg", [("eprop_lif", {"feedback": "adaptive"}), ("eprop_lif", {"feedback": "random"}),
                                       ("mdgl", {})])
def test_same_seed_same_history(rule, cfg):
    s = RunSpec(task="evidence_accumulation", arch="lif", rule=rule, steps=3, batch=4, seed=7, rule_config=cfg,
                task_config={"cues": 3, "delay": 4}, alignment_every=1,
                arch_config={"hidden": 12, "dt": 5.0, "dale": True, "density": 0.5, "rate_reg": 1.0})
    runs = []
    for _ in range(2):
        hist = [r.to_dict() for r in Trainer(s).run()]
        runs.append([{k: v for k, v in r.items() if k != "ms"} for r in hist])
    assert runs[0] == runs[1]
    assert runs[0][-1]["alignment"]["recurrent"] is not None
