"""Runs: ``manager`` (create, queue, worker messages, persistence), ``run`` (one run's record), ``states`` (the
state machine: which control does what in which phase), ``controls`` (applying a control), ``limits`` (per-owner
and queue limits), ``waiting`` (the queue message), ``checkpoints`` (where parked runs' checkpoints live),
``history`` (thinning and paging histories), ``ratelimit`` (a token bucket), ``link`` (the pipes to a worker
process and its reaping), ``worker`` (the process entry point that trains) and ``hub`` (fan-out to the viewers)."""
