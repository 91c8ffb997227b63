"""Runs: ``manager`` (create, queue, worker messages, persistence), ``run`` (one run's record), ``controls`` (play,
pause, step, reset, stop, speed, learning rate), ``link`` (the pipes to a worker process and its reaping),
``worker`` (the process entry point that trains) and ``hub`` (fan-out to the viewers)."""
