"""Runs: the manager (queue, controls, persistence), the worker process entry point and the fan-out hub."""
