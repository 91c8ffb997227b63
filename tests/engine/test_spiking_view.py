"""What a page shows of a spiking run (engine/spiking_view.py, Trainer.snapshot): spikes, membrane potential and
threshold on the example trial, cell types, the firing summary, and W_rec as it acts (signed under Dale's law)."""

import torch

from engine.spec import RunSpec
from engine.training import Trainer


def trainer(**arch) -> Trainer:
    return Trainer(RunSpec(task="evidence_accumulation", arch="lif", rule="eprop_lif",
                           arch_config={"hidden": 20, **arch}, batch=2, steps=5))


def test_a_spiking_snapshot_carries_spikes_membrane_and_cell_types():
    t = trainer(dale=True)
    t.train_step()
    snap = t.snapshot()
    sp = snap["spiking"]
    T = t.example.inputs.shape[0]
    assert sp["spikes"].shape == sp["v"].shape == sp["threshold"].shape == (T, 20)
    assert set(sp["spikes"].ravel().tolist()) <= {0.0, 1.0}
    assert sp["rate_hz"] == sp["spikes"].mean() * 1000.0 / t.arch.config.dt
    codes = sp["cell_type"]
    assert {0.0, 2.0} <= set(codes.tolist())  # Dale's law: excitatory and inhibitory neurons
    assert (codes >= 2).sum() == 20 - round(0.8 * 20)
    # W_rec as it acts: signs by presynaptic type, and its change since the start in the same form
    W = snap["weights"]["W_rec"]
    signed = t.arch.recurrent_weights().detach().numpy()
    assert (W == signed).all() and (W < 0).any() and (W > 0).any()
    assert abs(snap["weights"]["W_rec_change"]).max() > 0


def test_a_network_without_input_is_silent_and_a_rate_network_has_no_spiking_view():
    t = trainer(input_scale=0.0)
    sp = t.snapshot()["spiking"]
    assert sp["silent"] and sp["rate_hz"] == 0 and not sp["saturated"]
    rnn = Trainer(RunSpec(task="dnms", arch="rnn", rule="bptt", arch_config={"hidden": 8}, batch=2, steps=2))
    assert "spiking" not in rnn.snapshot()
    w0 = rnn.arch.W_rec.detach().clone()
    rnn.snapshot()
    assert torch.equal(rnn.arch.W_rec.detach(), w0)  # showing the weights never changes them
