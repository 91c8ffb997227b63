"""What the lab page shows of a network and a rule beyond its weights: the state variables a network declares
(:mod:`engine.views.variables`) and the per-synapse credit of the rules that keep eligibility traces
(:mod:`engine.views.synapses`). Each view is a function of the trainer's parts that returns float32 numpy arrays
for ``Trainer.snapshot``; none imports ``app``."""
