"""Sweeps in the database (table ``sweeps``, schema version 6): written when made, after each finished point and
when the sweep ends (through the store's writer thread); read once at start-up.

A sweep's runs are short and are not kept; each finished point keeps its summary (mean, min and max over the
seeds), which is all the sweep's page and its lines need. A sweep that was still running when the server stopped
(or crashed) comes back **interrupted**, with the points it had finished: it is not resumed by itself, because a
restart is no-one's request to spend the server's one sweep slot, and a sweep that crashed the server would crash
it again at every start. Its owner can start the same sweep again.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection

from app.store import Store, SweepRow
from engine.compare import SweepSpec


def save(store: Store, fields: dict[str, Any]) -> None:
    """Write a sweep as it is now, from its stored fields (``Sweep.stored()``): its whole row, since the points
    are few (at most 120)."""
    row = {**fields, "spec": orjson.dumps(fields["spec"].model_dump()).decode(),
           "points": orjson.dumps(fields["points"]).decode()}

    def write(conn: Connection) -> None:
        conn.execute(delete(SweepRow.__table__).where(SweepRow.id == row["id"]))
        conn.execute(insert(SweepRow.__table__).values(**row))

    store.call(write)


def load(store: Store) -> list[dict[str, Any]]:
    """Every stored sweep's fields (as ``Sweep.stored()`` gives them), oldest first (blocking: off the loop)."""
    store.flush()
    with store.engine.connect() as conn:
        return [{"id": r.id, "spec": SweepSpec.model_validate(orjson.loads(r.spec)), "owner": r.owner,
                 "status": r.status, "message": r.message, "points": orjson.loads(r.points), "created": r.created}
                for r in conn.execute(select(SweepRow.__table__).order_by(SweepRow.created))]
