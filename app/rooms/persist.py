"""Rooms, polls and votes in the database (tables of schema version 4, app/migrations.py).

Reads happen once, when the rooms are first needed (:func:`load`); every change is written through the store's
writer thread (``Store.call``), off the event loop, in the order it happened. A vote is written as delete-then-
insert on its key (poll, participant), so a second vote replaces the first and nothing is stored twice.
"""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import TypeAdapter
from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection

from app.rooms.models import PollCreate
from app.rooms.room import Poll, Room
from app.store import PollRow, RoomRow, Store, VoteRow

_POLL = TypeAdapter(PollCreate)


def load(store: Store) -> dict[str, Room]:
    store.flush()
    with store.engine.connect() as conn:
        rooms = {r.code: Room(r.code, r.title, r.presenter, r.password,
                              orjson.loads(r.shown) if r.shown else None, r.created)
                 for r in conn.execute(select(RoomRow.__table__))}
        polls: dict[str, Poll] = {}
        for p in conn.execute(select(PollRow.__table__).order_by(PollRow.position)):
            if p.room in rooms:
                poll = Poll(p.id, p.room, p.position, _POLL.validate_json(p.config), p.state, bool(p.revealed),
                            orjson.loads(p.answer) if p.answer else None, p.created)
                rooms[p.room].polls[p.id] = polls[p.id] = poll
        for v in conn.execute(select(VoteRow.__table__).order_by(VoteRow.created)):
            if v.poll in polls:
                polls[v.poll].votes[v.participant] = orjson.loads(v.value)
    return rooms


def _replace(conn: Connection, table: Any, where: Any, values: dict[str, Any]) -> None:
    conn.execute(delete(table).where(where))
    conn.execute(insert(table).values(**values))


def save_room(store: Store, room: Room) -> None:
    values = {"code": room.code, "title": room.title, "password": room.password, "presenter": room.presenter,
              "shown": orjson.dumps(room.shown).decode() if room.shown is not None else None,
              "created": room.created}
    store.call(lambda conn: _replace(conn, RoomRow.__table__, RoomRow.code == room.code, values))


def save_poll(store: Store, poll: Poll) -> None:
    values = {"id": poll.id, "room": poll.room, "position": poll.position, "kind": poll.kind,
              "question": poll.spec.question, "config": poll.spec.model_dump_json(), "state": poll.state,
              "revealed": int(poll.revealed), "answer": orjson.dumps(poll.answer).decode() if poll.answer else None,
              "created": poll.created}
    store.call(lambda conn: _replace(conn, PollRow.__table__, PollRow.id == poll.id, values))


def save_vote(store: Store, poll: Poll, participant: str, created: float) -> None:
    values = {"poll": poll.id, "participant": participant, "value": orjson.dumps(poll.votes[participant]).decode(),
              "created": created}
    where = (VoteRow.poll == poll.id) & (VoteRow.participant == participant)
    store.call(lambda conn: _replace(conn, VoteRow.__table__, where, values))
