"""Fixtures for the web-app tests (defined in apputil.py, which test files also import helpers from)."""

from apputil import client, settings  # noqa: F401  (fixtures: a fresh app on a temp data dir)
