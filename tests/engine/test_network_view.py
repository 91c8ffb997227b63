"""What the page shows beyond the weights (engine/views/): the state variables a network declares (a GRU's gates on
the example trial) and, for trace rules, which synapses are shown with their trace × learning signal; and which
rules are stochastic estimators (the alignment chart shows their spread)."""

import numpy as np
import torch

from app.protocol import decode_snapshot, encode_snapshot, snapshot_arrays
from engine.catalog import catalog
from engine.spec import RunSpec
from engine.training import Trainer


def trainer(arch: str, rule: str, **cfg) -> Trainer:
    task = "evidence_accumulation" if arch == "lif" else "dnms"
    return Trainer(RunSpec(task=task, arch=arch, rule=rule, arch_config={"hidden": 10, **cfg}, batch=2, steps=3))


def test_a_gru_declares_its_gates_and_the_snapshot_carries_them_over_the_example_trial():
    t = trainer("gru", "bptt")
    t.train_step()
    snap = t.snapshot()
    v = snap["variables"]
    assert set(v["values"]) == set(v["about"]) == {"update_gate", "reset_gate"}
    T = t.example.inputs.shape[0]
    # the gates of Eqs. (1)-(2) step by step, from h_0 = 0
    h = torch.zeros(1, 10)
    zs, rs = [], []
    with torch.no_grad():
        for x_t in t.example.inputs[:, :1]:
            z, r, n, _ = t.arch.gates(x_t, h, h)
            h = (1 - z) * n + z * h
            zs.append(z[0])
            rs.append(r[0])
    np.testing.assert_allclose(v["values"]["update_gate"], torch.stack(zs).numpy(), atol=1e-6)
    np.testing.assert_allclose(v["values"]["reset_gate"], torch.stack(rs).numpy(), atol=1e-6)
    assert v["values"]["update_gate"].shape == (T, 10) and v["values"]["update_gate"].dtype == np.float32
    # every declared matrix goes out, under the network's own names, and the frame carries the gates and their words
    meta, arrays = snapshot_arrays(snap)
    header, back = decode_snapshot(encode_snapshot(snap["step"], meta, arrays))
    assert {f"weights.{k}" for k in t.arch.weight_names()} <= set(back)
    assert back["variables.update_gate"].shape == (T, 10)
    assert "update gate" in header["meta"]["variables"]["update_gate"]


def test_networks_that_declare_no_variables_send_none_and_spiking_ones_keep_their_own_view():
    assert "variables" not in trainer("rnn", "bptt").snapshot()
    snap = trainer("lif", "bptt").snapshot()
    assert "variables" not in snap and "spiking" in snap


def test_trace_rules_send_their_shown_synapses_and_the_product_of_trace_and_signal():
    for arch, rule, weight in (("rnn", "eprop", "W_rec"), ("gru", "eprop", "W_hz"), ("lif", "eprop_lif", "W_rec"),
                               ("lif", "mdgl", "W_rec")):
        t = trainer(arch, rule, **({"dale": True} if rule == "mdgl" else {}))
        t.train_step()
        snap = t.snapshot()
        s, sig = snap["synapses"], snap["signals"]
        assert s["weight"] == weight, (arch, rule)
        rows, cols = t.rule.shown
        assert s["rows"].tolist() == rows.tolist() and s["cols"].tolist() == cols.tolist()
        np.testing.assert_allclose(s["credit"], sig["learning_signal"] * sig["eligibility_trace"], rtol=1e-6)
        assert s["credit"].shape == sig["eligibility_trace"].shape
        assert np.abs(sig["eligibility_trace"]).max() > 0, (arch, rule)
        W = snap["weights"][weight]
        assert int(s["rows"].max()) < W.shape[0] and int(s["cols"].max()) < W.shape[1]
    for rule in ("bptt", "uoro"):
        assert "synapses" not in trainer("rnn", rule).snapshot()


def test_the_catalog_says_which_rules_are_stochastic_estimators():
    flags = {r["name"]: r["stochastic"] for r in catalog()["rules"]}
    assert {k for k, v in flags.items() if v} == {"uoro", "node_perturbation"}


def test_a_shown_synapse_whose_trace_stays_zero_is_replaced_by_the_free_one_with_the_largest_trace():
    from types import SimpleNamespace

    from engine.views.synapses import refine_shown

    # three units; synapse (0, 1) is live, (2, 0) dead; among free pairs (j, i), i ≠ j, W ≠ 0, the trace of (1, 2)
    # is the largest, then (2, 1) (a row already used by a live synapse is taken last)
    traces = {(0, 1): 0.5, (2, 0): 0.0, (1, 0): 0.1, (1, 2): 0.9, (2, 1): 0.3, (0, 2): 0.95}
    rule = SimpleNamespace(shown=(torch.tensor([0, 2]), torch.tensor([1, 0])))

    def measure() -> np.ndarray:
        rows, cols = rule.shown
        return np.array([[traces.get((int(r), int(c)), 0.0) for r, c in zip(rows, cols)]] * 3)

    W = np.ones((3, 3))
    trace = measure()
    assert refine_shown(rule, W, np.ones((3, 3)), trace, measure)
    assert rule.shown[0].tolist() == [0, 1] and rule.shown[1].tolist() == [1, 2]  # (0, 2) skipped: row 0 is taken
    assert rule.shown[0].dtype == torch.int64
    assert not refine_shown(rule, W, np.ones((3, 3)), measure(), measure)  # all live: nothing changes


def test_a_picked_synapse_is_shown_first_from_the_next_snapshot_on():
    t = trainer("gru", "eprop")
    t.snapshot()
    before = list(zip(*(x.tolist() for x in t.rule.shown)))
    assert t.show_synapse(7, 3)
    snap = t.snapshot()
    s = snap["synapses"]
    assert (int(s["rows"][0]), int(s["cols"][0])) == (7, 3) and s["weight"] == "W_hz"
    assert list(zip(s["rows"].astype(int).tolist(), s["cols"].astype(int).tolist()))[1:] == \
        [p for p in before if p != (7, 3)][:3]
    # its trace is the rule's own for that synapse: e_t = z_t e_{t-1} + post_t pre_t (traces Eq. 1, gru Eq. 8)
    loc = t.arch.unit_locals(t.example.inputs, t.arch.init_state(1))
    b = loc.blocks[0]
    e, trace = 0.0, []
    for k in range(t.example.inputs.shape[0]):
        e = float(loc.own[k, 0, 7]) * e + float(b.post[k, 0, 7] * b.pre[k, 0, 3])
        trace.append(e)
    np.testing.assert_allclose(snap["signals"]["eligibility_trace"][:, 0], trace, rtol=1e-4, atol=1e-7)
    assert not t.show_synapse(7, 3)  # already first
    assert not t.show_synapse(10, 0) and not t.show_synapse(0, 10)  # outside the 10 x 10 matrix
    assert not trainer("rnn", "bptt").show_synapse(0, 1)  # a rule that shows no synapses
