"""Every registered task, architecture and rule honours the contract; every compatible pair trains (smoke)."""

import math

import pytest

from engine.archs import ARCHS
from engine.config import ConfigModel
from engine.rules import RULES
from engine.spec import RunSpec
from engine.tasks import TASKS
from engine.training import Trainer

ENTRIES = [(kind, name, cls) for kind, reg in (("task", TASKS), ("arch", ARCHS), ("rule", RULES)) for name, cls in reg]


@pytest.mark.parametrize("kind, name, cls", ENTRIES, ids=[f"{k}:{n}" for k, n, _ in ENTRIES])
def test_entry_is_documented(kind, name, cls):
    assert cls.name == name
    assert cls.description and cls.reference, f"{kind} {name} needs a description and a reference"
    assert issubclass(cls.Config, ConfigModel)
    cls.Config()  # every setting has a default
    for field, info in cls.Config.model_fields.items():
        assert info.description, f"{kind} {name}: setting {field!r} has no docstring"


@pytest.mark.parametrize("name, cls", list(RULES), ids=RULES.names())
def test_rule_declares_what_it_is(name, cls):
    assert cls.supports and all(a in ARCHS for a in cls.supports)
    if not cls.exact:
        assert cls.approximates, f"approximate rule {name} must name the exact computation it equals"


PAIRS = [(t, a, r) for t in TASKS.names() for a in ARCHS.names() for r, rc in RULES if a in rc.supports]


@pytest.mark.parametrize("task, arch, rule", PAIRS, ids=["-".join(p) for p in PAIRS])
def test_every_compatible_pair_trains_and_is_deterministic(task, arch, rule):
    spec = RunSpec(task=task, arch=arch, rule=rule, steps=2, batch=3, seed=5, alignment_every=2,
                   arch_config={"hidden": 8})
    a, b = Trainer(spec), Trainer(spec)
    ra, rb = list(a.run()), list(b.run())
    assert a.status == "done" and len(ra) == 2
    assert all(math.isfinite(r.loss) and 0 <= r.accuracy <= 1 for r in ra)
    assert [r.loss for r in ra] == [r.loss for r in rb]
    assert ra[1].alignment is not None and -1 <= ra[1].alignment["all"] <= 1
    cost = a.cost()
    assert cost["state_bytes"] > 0 and cost["bptt_state_bytes"] > 0
    snap = a.snapshot()
    assert snap["example"]["activity"].shape[1] == 8


# -- an exact rule must be exact: every rule declaring ``exact = True`` is compared with BPTT in float64 ----------------

def exact_cases(registry) -> list[tuple[str, str]]:
    """(rule, architecture) for every exact rule and every architecture it says it trains."""
    return [(name, arch) for name, cls in registry if cls.exact for arch in sorted(cls.supports)]


def assert_equals_bptt(rule_cls, arch_name: str, tol: float = 1e-8) -> None:
    """The rule's gradient equals BPTT's, parameter by parameter, on random float64 networks and trials."""
    import torch

    for seed, task_name in enumerate(["add", "dnms", "add"]):
        gen = torch.Generator().manual_seed(100 + seed)
        task_cls = TASKS.get(task_name)
        task = task_cls(task_cls.Config(**({"steps": 12, "t1": 2, "t2": 5} if task_name == "add" else {})))
        arch_cls = ARCHS.get(arch_name)
        sizes = {k: v for k, v in {"hidden": 6, "alpha": 0.3 + 0.3 * seed}.items() if k in arch_cls.Config.model_fields}
        arch = arch_cls(arch_cls.Config(**sizes), task.n_inputs, task.n_outputs, gen, torch.float64)
        with torch.no_grad():  # generic parameters: no zero biases hiding a path
            for p in arch.parameters():
                p.add_(0.1 * torch.randn(p.shape, generator=gen, dtype=p.dtype))
        trial = task.sample(3, gen).to(torch.float64)
        bptt = RULES.get("bptt")
        true, _ = bptt(bptt.Config(), arch, torch.Generator().manual_seed(0)).gradients(task, trial)
        got, _ = rule_cls(rule_cls.Config(), arch, torch.Generator().manual_seed(0)).gradients(task, trial)
        assert set(got) >= set(dict(arch.named_parameters())), f"{rule_cls.name} misses parameters"
        for k, g in true.items():
            err = ((got[k] - g).norm() / g.norm().clamp_min(1e-300)).item()
            assert err <= tol, f"{rule_cls.name} on {arch_name}: {k} differs from BPTT by {err:.2e} (relative)"


@pytest.mark.parametrize("name, arch", exact_cases(RULES), ids=[f"{r}-{a}" for r, a in exact_cases(RULES)])
def test_every_exact_rule_equals_bptt_on_every_architecture_it_supports(name, arch):
    assert_equals_bptt(RULES.get(name), arch)


def test_the_exactness_check_catches_a_rule_that_only_claims_it():
    import torch

    from engine.registry import Registry
    from engine.rules.base import CreditRule

    throwaway: Registry = Registry("credit rule")

    @throwaway.register("fake-exact")
    class FakeExact(CreditRule):
        description, reference, exact = "writes random gradients", "none", True

        def gradients(self, task, trial):
            grads, result = RULES.get("bptt").gradients(self, task, trial)  # a real pass, random gradients
            return {k: torch.randn(g.shape, dtype=g.dtype, generator=self.generator) for k, g in grads.items()}, result

    throwaway.register("bptt")(type("B", (RULES.get("bptt"),), {}))
    assert ("fake-exact", "rnn") in exact_cases(throwaway)  # the check would run on it …
    with pytest.raises(AssertionError, match="differs from BPTT"):  # … and fail
        assert_equals_bptt(FakeExact, "rnn")
    assert_equals_bptt(throwaway.get("bptt"), "rnn")  # while the true one passes
