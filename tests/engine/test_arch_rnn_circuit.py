"""The rate network's circuit options: Dale's law (signs kept through training) and sparse fixed connectivity."""

import pytest
import torch

from engine.spec import RunSpec, SettingError, resolve
from engine.training import Trainer


def run(rule: str, steps: int = 6, **arch) -> Trainer:
    spec = RunSpec(task="add", rule=rule, steps=steps, batch=4, seed=3, alignment_every=0,
                   arch_config={"hidden": 10, **arch}, optim={"lr": 0.2})
    trainer = Trainer(spec)
    list(trainer.run())
    return trainer


@pytest.mark.parametrize("rule", ["bptt", "eprop"])
def test_dale_signs_hold_through_training(rule):
    trainer = run(rule, dale=True, excitatory=0.7)
    arch = trainer.arch
    W, start = arch.W_rec.detach(), trainer.initial["W_rec"]
    assert (arch.sign[:7] == 1).all() and (arch.sign[7:] == -1).all()
    assert (W[:, :7] >= 0).all() and (W[:, 7:] <= 0).all()
    assert (start[:, :7] > 0).all() and (start[:, 7:] < 0).all()
    assert not torch.equal(W, start)  # it learned, within the signs
    assert (W == 0).any() or (W != start).all()


def test_sparse_connectivity_stays_sparse_under_dale():
    trainer = run("bptt", dale=True, density=0.3)
    absent = trainer.arch.rec_mask == 0
    assert absent.any() and (trainer.arch.W_rec.detach()[absent] == 0).all()


@pytest.mark.parametrize("f", [0.01, 0.99])
def test_an_excitatory_fraction_without_both_types_names_the_setting_and_limit(f):
    with pytest.raises(SettingError) as err:
        resolve(RunSpec(task="add", arch_config={"hidden": 10, "dale": True, "excitatory": f}))
    assert err.value.field == "arch_config.excitatory"
    assert "at least one excitatory and one inhibitory" in str(err.value) and "0.05" in str(err.value)
    resolve(RunSpec(task="add", arch_config={"hidden": 10, "excitatory": f}))  # without Dale's law: unused


def test_without_dale_nothing_changes():
    a, b = run("bptt", steps=2), run("bptt", steps=2, excitatory=0.5)
    assert torch.equal(a.arch.W_rec, b.arch.W_rec) and not hasattr(a.arch, "sign")
