"""Tasks: a contract every registered task keeps, then what each task means (golden tests on its trials)."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
import torch
from pydantic_core import PydanticUndefined

from engine.config import SettingError, build_config
from engine.spec import RunSpec
from engine.tasks import TASKS
from engine.tasks.add import FLOOR_NOTHING, FLOOR_OPTIMAL, FLOOR_T1
from engine.tasks.store_recall import LEAD
from engine.training import Trainer

NAMES = TASKS.names()


def make(name: str, **settings):
    cls = TASKS.get(name)
    return cls(build_config(cls.Config, settings, "task_config"))


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def perfect_outputs(task, trial) -> torch.Tensor:
    """Outputs that reproduce the targets: the targets for MSE, their log-probabilities as logits for xent."""
    if task.loss_kind == "xent":
        return trial.targets.clamp_min(1e-9).log()
    return trial.targets.clone()


# -- the contract, for every registered task ---------------------------------------------------------------------

def test_the_five_tasks_are_registered():
    assert {"add", "dnms", "evidence_accumulation", "pattern_generation", "path_integration",
            "store_recall"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_metadata(name):
    cls = TASKS.get(name)
    assert cls.name == name
    assert cls.description and "\n" not in cls.description
    assert cls.reference
    assert cls.loss_kind in ("mse", "xent")


@pytest.mark.parametrize("name", NAMES)
def test_every_setting_has_help_and_a_default(name):
    fields = TASKS.get(name).Config.model_fields
    for field, info in fields.items():
        assert info.description, f"{name}.{field} has no docstring"
        assert info.default is not PydanticUndefined and not info.is_required(), f"{name}.{field} has no default"


@pytest.mark.parametrize("batch", [1, 5])
@pytest.mark.parametrize("name", NAMES)
def test_trial_shapes_and_mask(name, batch):
    task = make(name)
    trial = task.sample(batch, gen(0))
    T = trial.steps
    assert T >= 2
    assert trial.inputs.dtype == trial.targets.dtype == trial.mask.dtype == torch.float32
    assert trial.inputs.shape == (T, batch, task.n_inputs)
    assert trial.targets.shape == (T, batch, task.n_outputs)
    assert trial.mask.shape == (T, batch)
    assert ((trial.mask >= 0) & (trial.mask <= 1)).all()
    assert (trial.mask.sum(0) > 0).all(), "every trial must be judged somewhere"
    assert torch.isfinite(trial.inputs).all() and torch.isfinite(trial.targets).all()
    if task.loss_kind == "xent":
        judged = trial.mask > 0
        assert torch.allclose(trial.targets.sum(-1)[judged], torch.ones(int(judged.sum())))
    if trial.labels is not None:
        assert trial.labels.shape == (batch,) and not trial.labels.is_floating_point()
        assert ((trial.labels >= 0) & (trial.labels < task.n_outputs)).all()


@pytest.mark.parametrize("name", NAMES)
def test_periods_are_named_ordered_and_inside_the_trial(name):
    trial = make(name).sample(4, gen(1))
    assert trial.periods
    previous = 0
    for p in trial.periods:
        assert p.name
        assert previous <= p.start < p.stop <= trial.steps, trial.periods
        previous = p.stop


def edge_settings(name: str) -> list[dict]:
    """One settings dict per numeric setting, with that setting at its lower bound (where the others allow it)."""
    cls, out = TASKS.get(name), []
    for field, info in cls.Config.model_fields.items():
        lower = [getattr(m, "ge", None) for m in info.metadata if getattr(m, "ge", None) is not None]
        if lower and not isinstance(info.default, bool):
            try:
                build_config(cls.Config, {field: lower[0]}, "task_config")
            except SettingError:
                continue
            out.append({field: lower[0]})
    return out


@pytest.mark.parametrize("name", NAMES)
def test_settings_at_their_lower_bounds_still_give_valid_trials(name):
    for settings in edge_settings(name):
        task = make(name, **settings)
        trial = task.sample(3, gen(0))
        assert trial.inputs.shape[1:] == (3, task.n_inputs) and trial.targets.shape[1:] == (3, task.n_outputs)
        assert (trial.mask.sum(0) > 0).all(), settings
        assert all(0 <= p.start < p.stop <= trial.steps for p in trial.periods), (settings, trial.periods)
        assert task.accuracy(perfect_outputs(task, trial), trial) == pytest.approx(1.0, abs=1e-6), settings


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_trial_other_seed_other_trial(name):
    task = make(name)
    a, b, c = task.sample(6, gen(3)), task.sample(6, gen(3)), task.sample(6, gen(4))
    for field in ("inputs", "targets", "mask"):
        assert torch.equal(getattr(a, field), getattr(b, field))
    assert a.periods == b.periods
    assert (a.labels is None and b.labels is None) or torch.equal(a.labels, b.labels)
    assert not (torch.equal(a.inputs, c.inputs) and torch.equal(a.targets, c.targets))


@pytest.mark.parametrize("name", NAMES)
def test_sampling_leaves_the_global_random_state_alone(name):
    torch.manual_seed(123)
    np.random.seed(123)
    random.seed(123)
    torch_state, np_state, py_state = torch.get_rng_state(), np.random.get_state(), random.getstate()
    make(name).sample(3, gen(0))
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert all(np.array_equal(x, y) for x, y in zip(np.random.get_state(), np_state))
    assert random.getstate() == py_state


@pytest.mark.parametrize("name", NAMES)
def test_accuracy_judges_outputs(name):
    task = make(name)
    trial = task.sample(64, gen(5))
    perfect = perfect_outputs(task, trial)
    noise = torch.randn(trial.targets.shape, generator=gen(6))
    assert task.accuracy(perfect, trial) == pytest.approx(1.0, abs=1e-6)
    assert 0.0 <= task.accuracy(noise, trial) <= 1.0
    assert 0.0 <= task.accuracy(100 * noise, trial) <= 1.0
    assert task.accuracy(torch.zeros_like(perfect), trial) < 0.9  # saying nothing is not right
    assert task.loss(perfect, trial) < task.loss(noise, trial)


@pytest.mark.parametrize("name", NAMES)
def test_unknown_and_out_of_range_settings_are_refused(name):
    cls = TASKS.get(name)
    with pytest.raises(SettingError) as err:
        build_config(cls.Config, {"no_such_setting": 1}, "task_config")
    assert err.value.field == "task_config.no_such_setting"
    for field, info in cls.Config.model_fields.items():
        upper = [getattr(m, "le", None) for m in info.metadata if getattr(m, "le", None) is not None]
        if upper and isinstance(info.default, (int, float)) and not isinstance(info.default, bool):
            too_big = upper[0] * 2 + 1
            with pytest.raises(SettingError) as err:
                build_config(cls.Config, {field: too_big}, "task_config")
            assert field in err.value.field and "<=" in str(err.value)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", NAMES)
def test_trains_through_the_trainer(name, dtype):
    trainer = Trainer(RunSpec(task=name, rule="bptt", steps=2, batch=4, seed=0, dtype=dtype))
    records = list(trainer.run())
    assert trainer.status == "done" and len(records) == 2
    assert all(math.isfinite(r.loss) and 0.0 <= r.accuracy <= 1.0 for r in records)


BAD = [
    ("add", {"t1": 9, "t2": 5}, ("t1", "t2")),
    ("add", {"t2": 9, "steps": 9}, ("steps", "t2")),
    ("dnms", {"delay": 4, "distractors": 5}, ("distractors", "delay")),
    ("evidence_accumulation", {"cues": 6}, ("cues", "odd")),
    ("evidence_accumulation", {"noise": 0.5, "cue_rate": 0.4}, ("noise", "cue_rate")),
    ("pattern_generation", {"sines": 4, "steps": 20}, ("steps", "sines")),
    ("pattern_generation", {"input": "clock", "channels": 30, "steps": 20}, ("channels", "steps")),
    ("path_integration", {"report": "end", "steps": 10, "report_steps": 10}, ("report_steps", "steps")),
    ("store_recall", {"min_delay": 8, "max_delay": 3}, ("min_delay", "max_delay")),
]


@pytest.mark.parametrize("name, settings, words", BAD)
def test_inconsistent_settings_raise_a_clear_error(name, settings, words):
    with pytest.raises(SettingError) as err:
        build_config(TASKS.get(name).Config, settings, "task_config")
    assert err.value.field == "task_config"
    for word in words:
        assert word in str(err.value)


# -- add ---------------------------------------------------------------------------------------------------------

def test_add_targets_follow_eq_1():
    task = make("add", t1=3, t2=7, steps=30)
    trial = task.sample(8, gen(0))
    x = trial.inputs[..., 0]
    assert torch.equal(trial.inputs[..., 1], 1 - x)
    for b in range(8):
        for t in range(30):
            if t < 7:
                assert trial.mask[t, b] == 0
                continue
            p = 0.5 + 0.5 * x[t - 3, b].item() - 0.25 * x[t - 7, b].item()
            assert trial.mask[t, b] == 1
            assert trial.targets[t, b, 0].item() == pytest.approx(p)
            assert trial.targets[t, b, 1].item() == pytest.approx(1 - p)


def test_add_floors():
    assert FLOOR_NOTHING == pytest.approx(0.662, abs=1e-3)
    assert FLOOR_T1 == pytest.approx(0.519, abs=1e-3)
    assert FLOOR_OPTIMAL == pytest.approx(0.454, abs=1e-3)


def test_add_predictors_reach_their_floors_on_sampled_trials():
    """The ideal observer, one that only knows x_{t−t1}, and one that knows nothing hit Eqs. (4), (3), (2)."""
    task = make("add")
    c = task.config
    trial = task.sample(2000, gen(1))
    x = trial.inputs[..., 0]
    p_t1 = torch.full_like(x, 0.375)  # E[p | x_{t−t1}] = 0.5 + 0.5 x − 0.125
    p_t1[c.t1:] += 0.5 * x[: c.steps - c.t1]
    to_logits = lambda p: torch.stack([p, 1 - p], -1).log()  # noqa: E731
    assert task.loss(perfect_outputs(task, trial), trial).item() == pytest.approx(FLOOR_OPTIMAL, abs=3e-3)
    assert task.loss(to_logits(p_t1), trial).item() == pytest.approx(FLOOR_T1, abs=3e-3)
    assert task.loss(to_logits(torch.full_like(x, 0.625)), trial).item() == pytest.approx(FLOOR_NOTHING, abs=3e-3)


# -- dnms --------------------------------------------------------------------------------------------------------

def test_dnms_label_is_whether_test_differs_from_sample():
    task = make("dnms", classes=4, stimulus_steps=2, delay=5, response_steps=3, noise=0.0)
    trial = task.sample(4000, gen(0))
    x = trial.inputs
    sample_class = x[0, :, 1:].argmax(-1)
    test_class = x[2 + 5, :, 1:].argmax(-1)
    assert torch.equal(trial.labels, (sample_class != test_class).long())
    assert abs(trial.labels.double().mean().item() - 0.5) < 0.05  # matches and non-matches are balanced
    assert (x[:, :, 1:].sum(-1)[[0, 1, 7, 8]] == 1).all() and (x[2:7, :, 1:] == 0).all()
    assert (x[:9, :, 0] == 1).all() and (x[9:, :, 0] == 0).all()  # fixation off when the answer is due
    assert (trial.mask[:9] == 0).all() and (trial.mask[9:] == 1).all()
    assert torch.equal(trial.targets[9:].argmax(-1), trial.labels.expand(3, -1))
    assert [p.name for p in trial.periods] == ["sample", "delay", "test", "response"]


def test_dnms_distractors_and_noise():
    clean = make("dnms", classes=3, stimulus_steps=3, delay=6, distractors=4, noise=0.0).sample(50, gen(2))
    stim = clean.inputs[:, :, 1:]
    assert (stim[3:9].sum(-1) <= 1).all()  # one stimulus at a time
    assert (stim[3:9].sum((0, 2)) == 4).all()  # four distractors in every delay
    noisy = make("dnms", stimulus_steps=3, delay=10, noise=0.5).sample(200, gen(2))
    assert noisy.inputs[3:13, :, 1:].std().item() == pytest.approx(0.5, rel=0.1)


# -- evidence accumulation ---------------------------------------------------------------------------------------

def test_evidence_label_is_the_majority_side():
    task = make("evidence_accumulation", cues=5, cue_steps=2, gap_steps=1, delay=4, recall_steps=3,
                population=3, cue_rate=1.0, noise=0.0)
    trial = task.sample(500, gen(0))
    P, x = 3, trial.inputs
    left = x[:15, :, 0].sum(0) / 2  # cue steps per cue
    right = x[:15, :, P].sum(0) / 2
    assert torch.equal(left + right, torch.full_like(left, 5.0))
    assert torch.equal(trial.labels, (right > left).long())
    assert 0.3 < trial.labels.double().mean().item() < 0.7
    assert torch.equal(x[..., :P].amax(-1), x[..., 0]) and torch.equal(x[..., P:2 * P].amax(-1), x[..., P])
    recall = x[..., 2 * P]
    assert (recall[19:] == 1).all() and (recall[:19] == 0).all()
    assert (x[..., 3 * P:] == 0).all()
    assert torch.equal(trial.mask, recall)
    assert [(p.name, p.start, p.stop) for p in trial.periods] == [("cues", 0, 15), ("delay", 15, 19),
                                                                   ("recall", 19, 22)]


def test_evidence_noise_population_fires_at_the_noise_rate():
    trial = make("evidence_accumulation", population=5, noise=0.2).sample(400, gen(1))
    assert trial.inputs[..., 15:].mean().item() == pytest.approx(0.2, abs=0.01)


# -- pattern generation ------------------------------------------------------------------------------------------

def test_pattern_fixed_target_is_murrays_sum_of_sines():
    trial = make("pattern_generation", steps=100, sines=3).sample(2, gen(0))
    for t in (0, 13, 50, 99):
        w = 2 * math.pi * t / 100
        expected = math.sin(w) + 0.5 * math.sin(2 * w) + 0.25 * math.sin(4 * w)
        assert trial.targets[t, 1, 0].item() == pytest.approx(expected, abs=1e-6)
    assert torch.equal(trial.targets[:, 0], trial.targets[:, 1])
    assert trial.mask.eq(1).all()


def test_pattern_random_target_is_fixed_by_its_seed():
    def target(seed: int, trial_seed: int) -> torch.Tensor:
        task = make("pattern_generation", amplitudes="random", target_seed=seed)
        return task.sample(1, gen(trial_seed)).targets

    a = target(1, 0)
    assert torch.equal(a, target(1, 5)) and not torch.equal(a, target(2, 0))
    assert a.abs().max().item() == pytest.approx(1.0)


def test_pattern_inputs():
    clock = make("pattern_generation", input="clock", steps=40, channels=8, noise=0.0).sample(3, gen(0)).inputs
    assert torch.equal(clock.sum(-1), torch.ones(40, 3))
    assert torch.equal(clock[:, 0].argmax(-1), torch.arange(40) // 5)
    frozen = lambda seed, g: make("pattern_generation", input="frozen_noise", input_seed=seed,  # noqa: E731
                                  noise=0.0).sample(2, gen(g)).inputs
    assert torch.equal(frozen(3, 0), frozen(3, 1)) and not torch.equal(frozen(3, 0), frozen(4, 0))
    assert torch.equal(frozen(3, 0)[:, 0], frozen(3, 0)[:, 1])
    silent = make("pattern_generation", input="none", noise=0.0).sample(2, gen(0)).inputs
    assert silent.shape[-1] == 1 and (silent == 0).all()


def test_r2_accuracy_is_variance_explained():
    task = make("pattern_generation")
    trial = task.sample(4, gen(0))
    y = trial.targets
    guess = 0.7 * y + 0.1
    expected = 1 - ((guess - y) ** 2).sum() / ((y - y.mean()) ** 2).sum()
    assert task.accuracy(guess, trial) == pytest.approx(expected.item(), rel=1e-5)
    assert task.accuracy(torch.full_like(y, y.mean().item()), trial) == pytest.approx(0.0, abs=1e-6)
    assert task.accuracy(-y, trial) == 0.0  # worse than the mean is clipped


# -- path integration --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dims", [1, 2])
def test_path_target_is_the_running_sum_of_velocity(dims):
    task = make("path_integration", dims=dims, steps=15, report="continuous")
    trial = task.sample(10, gen(0))
    v = trial.inputs[..., :dims]
    for t in (0, 7, 14):
        assert torch.allclose(trial.targets[t], v[: t + 1].sum(0), atol=1e-6)
    assert trial.mask.eq(1).all() and trial.inputs[..., dims].eq(1).all()


def test_path_end_report_judges_only_the_still_end():
    trial = make("path_integration", dims=2, steps=12, report="end", report_steps=3).sample(20, gen(1))
    assert (trial.inputs[9:, :, :2] == 0).all() and (trial.inputs[:9, :, :2] != 0).any()
    assert (trial.mask[:9] == 0).all() and (trial.mask[9:] == 1).all()
    assert torch.equal(trial.inputs[..., 2], trial.mask)
    assert torch.allclose(trial.targets[11], trial.inputs[:, :, :2].sum(0), atol=1e-6)
    assert [p.name for p in trial.periods] == ["move", "report"]


# -- store / recall ----------------------------------------------------------------------------------------------

def test_store_recall_target_is_the_stored_value():
    task = make("store_recall", min_delay=1, max_delay=8, recall_steps=2)
    trial = task.sample(300, gen(0))
    x = trial.inputs
    assert (x[:, :, 1].sum(0) == 1).all() and (x[LEAD, :, 1] == 1).all()
    stored = x[LEAD, :, 0]
    assert torch.equal(x[..., 2], trial.mask) and (trial.mask.sum(0) == 2).all()
    judged = trial.mask.bool()
    assert torch.equal(trial.targets[..., 0][judged], stored.expand_as(judged)[judged])
    starts = trial.mask.argmax(0) - LEAD - 1  # per-trial delays
    assert starts.min() == 1 and starts.max() == 8  # every delay in range occurs
    recall = next(p for p in trial.periods if p.name == "recall")
    assert recall.start == LEAD + 1 + starts[0]
    assert (x[:LEAD, :, 0] != 0).any()  # distractor values by default


def test_store_recall_fixed_delay_and_tolerance():
    task = make("store_recall", min_delay=4, max_delay=4, distractors=False, tolerance=0.1)
    trial = task.sample(50, gen(1))
    assert (trial.mask == trial.mask[:, :1]).all()
    assert (trial.inputs[:LEAD, :, 0] == 0).all()
    near = trial.targets + 0.05 * trial.mask.unsqueeze(-1)
    far = trial.targets + 0.2 * trial.mask.unsqueeze(-1)
    assert task.accuracy(near, trial) == 1.0 and task.accuracy(far, trial) == 0.0
