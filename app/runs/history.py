"""Thinning and paging a run's metric history (records ``{"step", "loss", "accuracy", "ms", "alignment"}``).

:func:`thin` keeps at most about ``limit`` records of a list: the first and the last, and from each of
``limit // 2`` consecutive buckets the record with the lowest loss and the last record that carries an alignment
(so neither the loss curve's minima nor the alignment chart lose their shape). :func:`cap` bounds a history kept
in memory by thinning its older part. :func:`page` returns the records of a step range, a page at a time.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Any

Record = dict[str, Any]


def _loss(record: Record) -> float:
    loss = record.get("loss")
    return float("inf") if loss is None else float(loss)


def thin(records: list[Record], limit: int) -> list[Record]:
    """At most ``limit`` records (``limit ≥ 4``), in step order, keeping first, last, and per-bucket minima."""
    n = len(records)
    if n <= limit:
        return list(records)
    buckets = max(1, (limit - 2) // 2)
    losses = [_loss(r) for r in records]
    keep = {0, n - 1}
    for b in range(buckets):
        lo, hi = 1 + b * (n - 2) // buckets, 1 + (b + 1) * (n - 2) // buckets
        if lo >= hi:
            continue
        keep.add(min(range(lo, hi), key=losses.__getitem__))
        for i in range(hi - 1, lo - 1, -1):  # the bucket's last alignment record, if any
            if records[i].get("alignment"):
                keep.add(i)
                break
    return [records[i] for i in sorted(keep)]


def cap(records: list[Record], limit: int) -> None:
    """Bound ``records`` in place: past ``limit``, its older part (all but the newest ``limit // 2``) is thinned
    to ``limit // 4`` records, so memory stays below ``limit`` and recent updates stay complete."""
    if len(records) <= limit:
        return
    recent = limit // 2
    older = thin(records[:-recent], max(4, limit // 4))
    records[:] = older + records[-recent:]


def page(records: list[Record], start: int, stop: int | None, limit: int) -> tuple[list[Record], int | None]:
    """Records with ``start ≤ step < stop`` (at most ``limit``) and the step to ask for next (None: no more)."""
    steps = [r["step"] for r in records]
    lo = bisect_left(steps, start)
    hi = len(records) if stop is None else bisect_left(steps, stop)
    chosen = records[lo:min(hi, lo + limit)]
    more = lo + limit < hi
    return chosen, (records[lo + limit]["step"] if more else None)
