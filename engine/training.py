"""Trainer: the one place where a task, an architecture and a credit rule meet.

One update is

    trial ~ task(generator)  →  ĝ = rule(θ, trial)  →  θ ← optimizer(θ, ĝ)  →  metrics

Randomness comes from three generators derived from the run's seed — trials, initial weights, the rule's own — so
two runs with the same seed see the same trials and start from the same weights whatever the rule (fair
comparisons), and the same spec always gives the same history. A non-finite loss or gradient stops the run with
status ``diverged`` at that step, the history so far intact.
"""

from __future__ import annotations

import math
import time
import zlib
from dataclasses import asdict, dataclass, replace
from typing import Any, Iterator, Literal

import torch

from engine.spiking_view import spiking_view
from engine.views.synapses import pick_synapse, refine_shown, shown_weight, synapse_view
from engine.views.variables import variables_view
from engine.metrics import alignment
from engine.rules import RULES
from engine.rules.base import CreditRule, Pass
from engine.config import SettingError
from engine.spec import Resolved, RunSpec, full_config, resolve

Status = Literal["running", "done", "diverged", "stopped"]


@dataclass
class StepRecord:
    """One update's measurements. ``alignment`` is filled every ``alignment_every`` updates (else None)."""

    step: int
    loss: float
    accuracy: float
    ms: float
    alignment: dict[str, float | None] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _np(t: torch.Tensor) -> Any:
    return t.detach().to(torch.float32).cpu().numpy()


def derived_generator(seed: int, purpose: str) -> torch.Generator:
    """A generator seeded from (seed, purpose), so each source of randomness has its own stream."""
    return torch.Generator().manual_seed(zlib.crc32(f"{seed}:{purpose}".encode()))


def example_trial(task: Any, seed: int) -> Any:
    """The run's fixed example trial (batch 1): what the preview shows before training and what every snapshot
    replays with the current weights."""
    return task.sample(1, derived_generator(seed, "example"))


def build(r: Resolved) -> tuple[Any, Any, CreditRule, Any]:
    """The task, the network (initial weights from the seed), the rule and the example trial of a run — refused
    with :class:`~engine.config.SettingError` (field ``rule``) when the rule cannot afford the run's size. Cheap:
    the app calls it when a run is created, so that such a refusal is a clear error, not a failed run."""
    spec = r.spec
    dtype = torch.float64 if spec.dtype == "float64" else torch.float32
    task = r.task_cls(r.task_config)
    arch = r.arch_cls(r.arch_config, task.n_inputs, task.n_outputs, derived_generator(spec.seed, "init"), dtype)
    rule: CreditRule = r.rule_cls(r.rule_config, arch, derived_generator(spec.seed, "rule"))
    example = example_trial(task, spec.seed).to(dtype)
    try:
        rule.check(spec.batch, example.steps)
    except ValueError as err:
        raise SettingError("rule", str(err)) from None
    return task, arch, rule, example


def _object_state(obj: Any) -> dict[str, Any]:
    """The tensors and generator states an object holds, and those of the plain objects it owns (a rule's
    feedback), leaving out modules (the network has its own state dict) and configs."""
    out: dict[str, Any] = {}
    for name, v in vars(obj).items():
        if isinstance(v, torch.Tensor):
            out[name] = v.detach().clone()
        elif isinstance(v, torch.Generator):
            out[name] = v.get_state()
        elif type(v).__module__.startswith("engine.rules") and hasattr(v, "__dict__"):
            out[name] = _object_state(v)
    return out


def _load_object_state(obj: Any, state: dict[str, Any]) -> None:
    for name, v in state.items():
        current = getattr(obj, name)
        if isinstance(current, torch.Generator):
            current.set_state(v)
        elif isinstance(v, dict):
            _load_object_state(current, v)
        else:
            setattr(obj, name, v.clone())


class Trainer:
    """Holds one run's state; :meth:`train_step` does one update, :meth:`run` all of them. Raises
    :class:`~engine.config.SettingError` (field ``rule``) when the rule cannot afford the run's size."""

    def __init__(self, spec: RunSpec | Resolved):
        self.resolved = spec if isinstance(spec, Resolved) else resolve(spec)
        r = self.resolved
        self.spec = r.spec
        self.dtype = torch.float64 if self.spec.dtype == "float64" else torch.float32
        self.task, self.arch, self.rule, self.example = build(r)
        self.trials = derived_generator(self.spec.seed, "trials")
        self.oracle = RULES.get("bptt")(RULES.get("bptt").Config(), self.arch, torch.Generator())
        self.optimizer = self._optimizer()
        self.initial = {k: p.detach().clone() for k, p in self.arch.named_parameters()}
        self.history: list[StepRecord] = []
        self.status: Status = "running"
        self.last_pass: Pass | None = None

    def _optimizer(self) -> torch.optim.Optimizer:
        o = self.spec.optim
        params = list(self.rule.trainable().values())
        if o.name == "sgd":
            return torch.optim.SGD(params, lr=o.lr, momentum=o.momentum)
        return torch.optim.Adam(params, lr=o.lr)

    @property
    def step_count(self) -> int:
        return len(self.history)

    @property
    def finished(self) -> bool:
        return self.status != "running" or self.step_count >= self.spec.steps

    def lr_at(self, k: int) -> float:
        """The step size of update k + 1 (k updates done), for the spec's learning rate η and N updates:

            η_k = η                                                       (constant)
            η_k = η · (f + (1 − f) · ½ (1 + cos(π k / N)))                (cosine; f = final_fraction)    (1)

        A function of k alone, so a resumed run and a live change of η (the new η scales the rest of Eq. 1) stay
        exact."""
        o = self.spec.optim
        if o.schedule == "constant":
            return o.lr
        f = o.final_fraction
        return o.lr * (f + (1 - f) * 0.5 * (1 + math.cos(math.pi * min(k, self.spec.steps) / self.spec.steps)))

    def set_lr(self, lr: float) -> None:
        if not (0 < lr <= 10 and math.isfinite(lr)):
            raise ValueError(f"learning rate must be in (0, 10], got {lr}")
        self.spec = self.spec.model_copy(update={"optim": self.spec.optim.model_copy(update={"lr": lr})})
        for group in self.optimizer.param_groups:
            group["lr"] = lr

    def state_dict(self) -> dict[str, Any]:
        """Everything that decides the rest of the run: weights, optimizer state, the generators' states, the
        rule's own state (e.g. a feedback matrix), the history, step, status and learning rate. A trainer built
        from the same spec and given this by :meth:`load_state_dict` trains on exactly as this one would."""
        return {
            "arch": {k: v.detach().clone() for k, v in self.arch.state_dict().items()},
            "optimizer": self.optimizer.state_dict(),
            "trials": self.trials.get_state(),
            "rule": _object_state(self.rule),
            "history": [r.to_dict() for r in self.history],
            "status": self.status,
            "lr": self.spec.optim.lr,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from :meth:`state_dict` of a trainer with the same spec."""
        with torch.no_grad():
            self.arch.load_state_dict(state["arch"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.trials.set_state(state["trials"])
        _load_object_state(self.rule, state["rule"])
        self.history = [StepRecord(**r) for r in state["history"]]
        self.status = state["status"]
        if state["lr"] != self.spec.optim.lr:
            self.set_lr(state["lr"])

    def train_step(self) -> StepRecord:
        """One update. Sets ``status`` to ``diverged`` (and skips the update) on a non-finite loss or gradient."""
        trial = self.task.sample(self.spec.batch, self.trials).to(self.dtype)
        start = time.perf_counter()
        grads, result = self.rule.gradients(self.task, trial)
        finite = math.isfinite(result.loss.item()) and all(bool(torch.isfinite(g).all()) for g in grads.values())
        ms = (time.perf_counter() - start) * 1000
        k = self.spec.alignment_every
        aligned = None
        if finite and k and (self.step_count + 1) % k == 0:
            aligned = self._alignment(grads, trial)  # before the update: same parameters, same batch
        if finite:
            start = time.perf_counter()
            self.optimizer.zero_grad(set_to_none=True)
            self.rule.apply(grads)
            if self.spec.optim.clip > 0:
                torch.nn.utils.clip_grad_norm_(list(self.rule.trainable().values()), self.spec.optim.clip)
            for group in self.optimizer.param_groups:
                group["lr"] = self.lr_at(self.step_count)
            self.optimizer.step()
            self.rule.after_update()
            self.arch.constrain()  # e.g. Dale's law's signs
            ms += (time.perf_counter() - start) * 1000
        record = StepRecord(self.step_count + 1, result.loss.item(),
                            self.task.accuracy(result.outputs, trial), ms, aligned)
        self.history.append(record)
        self.last_pass = result
        if not finite or not all(bool(torch.isfinite(p).all()) for p in self.arch.parameters()):
            self.status = "diverged"
        elif self.step_count >= self.spec.steps:
            self.status = "done"
        return record

    def _alignment(self, grads: dict[str, torch.Tensor], trial: Any) -> dict[str, float | None]:
        """Cosine between the gradient the rule computed (before the optimizer) and BPTT's on the same batch and
        parameters: recurrent, all, per tensor (metrics Eqs. 1–3)."""
        true, _ = self.oracle.gradients(self.task, trial)
        masks = self.arch.grad_masks()
        computed = {k: g * masks[k] if k in masks else g for k, g in grads.items()}
        return alignment(computed, true, self.arch.recurrent_parameters())

    def run(self) -> Iterator[StepRecord]:
        """Train until ``spec.steps`` updates are done or the run diverges, yielding each record."""
        while not self.finished:
            yield self.train_step()

    def stop(self) -> None:
        if self.status == "running":
            self.status = "stopped"

    def cost(self) -> dict[str, float | int]:
        """The rule's state for one batch at this trial length, split into the part that does not grow with T and
        the part that does (``CreditRule.memory``), its working buffer, BPTT's state, and the mean ms per update."""
        return cost_figures(self.rule, self.oracle, self.spec.batch, self.example.steps,
                            mean_ms([r.ms for r in self.history[-50:]]))

    @torch.no_grad()
    def _shown(self, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        """A weight matrix as it acts and as it acted at the start: W_rec through the network's
        ``recurrent_weights`` (the sparsity mask applied, and under Dale's law the signs: W_rec holds magnitudes),
        applied to the parameter and to the initial copy alike; the parameters are only read."""
        p, first = getattr(self.arch, name), self.initial[name]
        if name != "W_rec":
            return p, first
        return self.arch.recurrent_weights(p), self.arch.recurrent_weights(first)

    @torch.no_grad()
    def snapshot(self) -> dict[str, Any]:
        """The current state for display: every declared weight matrix and its change since the start, the example
        trial (batch 1, fixed for the run) replayed with the current weights, the rule's signals, and where they
        exist the spiking view, the network's declared state variables (``engine.views.variables``) and the shown
        synapses' credit (``engine.views.synapses``). Arrays are float32 numpy."""
        ex = self.example
        activity, outputs = self.arch.run(ex.inputs)
        shown = torch.softmax(outputs, -1) if self.task.loss_kind == "xent" else outputs
        weights = {}
        for name in self.arch.weight_names():  # whatever matrices the network declares
            p, p0 = self._shown(name)
            weights[name] = _np(p)
            weights[name + "_change"] = _np(p - p0)
        signals = {k: _np(v) for k, v in self.rule.signals(self.task, ex).items()}
        if not getattr(self, "_synapses_chosen", False) and "eligibility_trace" in signals:
            self._synapses_chosen = True  # once per run: then the page follows the same synapses
            first = synapse_view(self.rule, signals)
            measure = lambda: _np(self.rule.signals(self.task, ex)["eligibility_trace"])  # noqa: E731
            if first and refine_shown(self.rule, weights[first["weight"]], _np(activity[:, 0]),
                                      signals["eligibility_trace"], measure):
                signals = {k: _np(v) for k, v in self.rule.signals(self.task, ex).items()}
        variables = variables_view(self.arch, ex.inputs)  # the network's declared state variables (GRU gates)
        synapses = synapse_view(self.rule, signals)  # which synapses the trace rules show, and trace × signal
        return {
            "step": self.step_count,
            "weights": weights,
            "example": {
                "inputs": _np(ex.inputs[:, 0]), "targets": _np(ex.targets[:, 0]), "mask": _np(ex.mask[:, 0]),
                "periods": [{"name": p.name, "start": p.start, "stop": p.stop} for p in ex.periods],
                "activity": _np(activity[:, 0]), "outputs": _np(shown[:, 0]), "loss_kind": self.task.loss_kind,
            },
            "signals": signals,
            "cost": self.cost(),
            **({"spiking": spiking_view(self.arch, ex.inputs)} if "spiking" in self.arch.provides else {}),
            **({"variables": variables} if variables else {}),
            **({"synapses": synapses} if synapses else {}),
        }

    def show_synapse(self, row: int, col: int) -> bool:
        """The page picked synapse [row, col] of the matrix its synapses belong to (``engine.views.synapses``):
        show it first from the next snapshot on. False if nothing changes (no such synapse, or none shown)."""
        name = shown_weight(self.rule)
        if not hasattr(self.arch, name):
            return False
        self._synapses_chosen = True  # the person's choice: not replaced by the first snapshot's
        return pick_synapse(self.rule, tuple(self._shown(name)[0].shape), int(row), int(col))

    def summary(self) -> dict[str, Any]:
        """Config, history and ``final``: loss and accuracy as the mean over the late window (:func:`late_mean`),
        the last batch's as ``last_loss`` / ``last_accuracy``, the mean recurrent and overall alignment over the
        same window, the cost figures (with the trial length T as ``trial_steps``), the status and the number of
        updates (``steps``)."""
        last = self.history[-1] if self.history else None
        window = late_window(len(self.history))
        cost = self.cost()
        return {
            "config": full_config(replace(self.resolved, spec=self.spec)),
            "history": [r.to_dict() for r in self.history],
            "final": {
                "loss": late_mean(self.history, "loss"),
                "accuracy": late_mean(self.history, "accuracy"),
                "last_loss": last.loss if last else None,
                "last_accuracy": last.accuracy if last else None,
                "window": window,
                "alignment": {k: late_mean(self.history, k) for k in ("recurrent", "all")},
                **cost,
                "trial_steps": cost["steps"],  # T; "steps" here is the number of updates, as it always was
                "status": self.status if self.status != "running" else "stopped",
                "steps": self.step_count,
            },
        }


def mean_ms(ms: list[float]) -> float:
    return sum(ms) / len(ms) if ms else 0.0


def cost_figures(rule: CreditRule, bptt: CreditRule, batch: int, steps: int, ms: float) -> dict[str, float | int]:
    """The cost dict of a run (see :meth:`Trainer.cost`); also what ``engine.estimate`` returns, with ``ms``
    estimated instead of measured."""
    fixed, per_step = rule.memory(batch)
    b_fixed, b_per_step = bptt.memory(batch)
    return {
        "state_bytes": rule.state_bytes(batch, steps), "fixed_bytes": fixed, "per_step_bytes": per_step,
        "buffer_bytes": rule.buffer_bytes(batch, steps),
        "bptt_state_bytes": bptt.state_bytes(batch, steps), "bptt_fixed_bytes": b_fixed,
        "bptt_per_step_bytes": b_per_step,
        "steps": steps, "batch": batch, "ms_per_update": ms,
    }


def late_window(n: int) -> int:
    """How many of ``n`` updates make the late window: the last 10 %, at least 10, all of them if fewer."""
    return min(n, max(10, math.ceil(n / 10)))


def late_mean(history: list[StepRecord] | list[dict[str, Any]], key: str, updates: int | None = None) -> float | None:
    """Mean of ``key`` over the late window of the history (:func:`late_window`): what summaries report instead of
    the last, noisy batch. ``key`` is a record field (``loss``, ``accuracy``) or an alignment key (``recurrent``,
    ``all``, a tensor name), in which case only the updates of the window that measured it count. Non-finite and
    missing values are skipped; ``None`` if nothing is left. ``updates``: how many updates the run made, when the
    history holds fewer records (older ones thinned); the late window, which stays complete, is counted from it."""
    recent = history[max(0, len(history) - late_window(len(history) if updates is None else updates)):]
    values = []
    for r in recent:
        d = r if isinstance(r, dict) else r.to_dict()
        v = d.get(key) if key in d else (d.get("alignment") or {}).get(key)
        if isinstance(v, (int, float)) and math.isfinite(v):
            values.append(float(v))
    return sum(values) / len(values) if values else None
