"""Comparisons in the database (table ``comparisons``, schema version 5): written once when made (through the
store's writer thread), read once at start-up. Their members are ordinary runs, restored by the run manager; a
comparison whose members are all gone (deleted, pruned) is not restored."""

from __future__ import annotations

import orjson
from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection

from app.comparisons.comparison import Comparison
from app.runs.manager import RunManager
from app.store import ComparisonRow, Store
from engine.compare import ComparisonSpec


def save(store: Store, c: Comparison) -> None:
    row = {"id": c.id, "owner": c.owner, "spec": orjson.dumps(c.spec.model_dump()).decode(),
           "labels": orjson.dumps(c.labels).decode(), "runs": orjson.dumps([r.id for r in c.runs]).decode(),
           "mode": c.mode, "target": c.target, "message": c.message, "created": c.created}

    def write(conn: Connection) -> None:
        conn.execute(delete(ComparisonRow.__table__).where(ComparisonRow.id == c.id))
        conn.execute(insert(ComparisonRow.__table__).values(**row))

    store.call(write)


def load(store: Store, manager: RunManager) -> dict[str, Comparison]:
    """Every stored comparison whose member runs the manager still has (blocking: call it off the loop)."""
    store.flush()
    out = {}
    with store.engine.connect() as conn:
        for r in conn.execute(select(ComparisonRow.__table__).order_by(ComparisonRow.created)):
            runs = [manager.get(i) for i in orjson.loads(r.runs)]
            if any(run is None for run in runs):
                continue
            out[r.id] = Comparison(r.id, ComparisonSpec.model_validate(orjson.loads(r.spec)), orjson.loads(r.labels),
                                   runs, r.owner, r.mode, r.target, r.message, created=r.created)
    return out
