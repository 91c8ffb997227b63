"""Comparisons and sweeps on the server: members are ordinary runs of the RunManager, a sweep is a batch job."""
