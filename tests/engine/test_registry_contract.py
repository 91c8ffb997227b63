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
