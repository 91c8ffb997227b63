"""The database schema's versions and the steps that upgrade one to the next, in place.

The version lives in a one-row table ``schema_version`` (portable: SQLite, Postgres, ...). A database without it
is version 1 if it has the ``runs`` table (written before migrations existed) and empty (version 0) otherwise.
:func:`upgrade` applies every step above the current version, each followed by the new version number, so a lab
that upgrades keeps its runs. Each step first looks at what is already there, so running it twice (a crash between
a step and its version bump, two servers starting at once) changes nothing the second time.

Versions:

1. ``runs`` (id, spec, status, speed, message, cost, created, updated) and ``records`` (id, run_id, step, data),
   exactly as the server wrote them before owners existed.
2. ``runs.owner``: SHA-256 of the owner's token, null for runs made before (nobody can control those: they are
   watch-only); ``checkpoints`` (run_id, step, data, created): one saved training state per run.
3. ``keyframes`` (run_id, step, data, created): training states kept at intervals over a run's whole length, for
   replay and for reopening any of them as a new run; ``runs.public`` (0/1): listed for everyone, not only its
   owner.
4. ``rooms`` (code, title, password, presenter, shown, created), ``polls`` (id, room, position, kind, question,
   config, state, revealed, answer, created) and ``votes`` (poll, participant, value, created; one per participant
   per poll): the classroom (app/rooms/).
5. ``comparisons`` (id, owner, spec, labels, runs, mode, target, message, created): a comparison groups its member
   runs (app/comparisons/); the runs themselves are rows of ``runs``.
6. ``sweeps`` (id, owner, spec, status, message, points, created): a sweep and the points it finished
   (app/comparisons/sweep_persist.py); its runs are not kept, only each point's summary.

To change the schema: add a function here, append it to :data:`STEPS`, and change the models in
:mod:`app.store` to match (tests/app/test_migrations.py checks that they do).
"""

from __future__ import annotations

from typing import Callable

from sqlalchemy import Column, Connection, Float, Integer, LargeBinary, MetaData, String, Table, Text, inspect, text


def _v1_tables(conn: Connection) -> None:
    meta = MetaData()
    Table("runs", meta,
          Column("id", String(32), primary_key=True), Column("spec", Text, nullable=False),
          Column("status", String(16), nullable=False), Column("speed", Float, nullable=False),
          Column("message", Text), Column("cost", Text),
          Column("created", Float, nullable=False), Column("updated", Float, nullable=False))
    Table("records", meta,
          Column("id", Integer, primary_key=True, autoincrement=True),
          Column("run_id", String(32), nullable=False, index=True),
          Column("step", Integer, nullable=False), Column("data", Text, nullable=False))
    meta.create_all(conn)  # checks first: creates only what is missing


def _v2_owner_and_checkpoints(conn: Connection) -> None:
    if "owner" not in {c["name"] for c in inspect(conn).get_columns("runs")}:
        conn.execute(text("ALTER TABLE runs ADD COLUMN owner VARCHAR(64)"))
    if "ix_runs_owner" not in {i["name"] for i in inspect(conn).get_indexes("runs")}:
        conn.execute(text("CREATE INDEX ix_runs_owner ON runs (owner)"))
    meta = MetaData()
    Table("checkpoints", meta,
          Column("run_id", String(32), primary_key=True), Column("step", Integer, nullable=False),
          Column("data", LargeBinary, nullable=False), Column("created", Float, nullable=False))
    meta.create_all(conn)


def _v3_keyframes_and_public(conn: Connection) -> None:
    if "public" not in {c["name"] for c in inspect(conn).get_columns("runs")}:
        conn.execute(text("ALTER TABLE runs ADD COLUMN public INTEGER NOT NULL DEFAULT 0"))
    meta = MetaData()
    Table("keyframes", meta,
          Column("run_id", String(32), primary_key=True), Column("step", Integer, primary_key=True),
          Column("data", LargeBinary, nullable=False), Column("created", Float, nullable=False))
    meta.create_all(conn)


def _v4_rooms(conn: Connection) -> None:
    meta = MetaData()
    Table("rooms", meta,
          Column("code", String(16), primary_key=True), Column("title", Text, nullable=False),
          Column("password", String(160)), Column("presenter", String(64), nullable=False),
          Column("shown", Text), Column("created", Float, nullable=False))
    Table("polls", meta,
          Column("id", String(16), primary_key=True), Column("room", String(16), nullable=False, index=True),
          Column("position", Integer, nullable=False), Column("kind", String(16), nullable=False),
          Column("question", Text, nullable=False), Column("config", Text, nullable=False),
          Column("state", String(16), nullable=False), Column("revealed", Integer, nullable=False),
          Column("answer", Text), Column("created", Float, nullable=False))
    Table("votes", meta,
          Column("poll", String(16), primary_key=True), Column("participant", String(64), primary_key=True),
          Column("value", Text, nullable=False), Column("created", Float, nullable=False))
    meta.create_all(conn)


def _v5_comparisons(conn: Connection) -> None:
    meta = MetaData()
    Table("comparisons", meta,
          Column("id", String(32), primary_key=True), Column("owner", String(64), nullable=False),
          Column("spec", Text, nullable=False), Column("labels", Text, nullable=False),
          Column("runs", Text, nullable=False), Column("mode", String(16), nullable=False),
          Column("target", Float, nullable=False), Column("message", Text), Column("created", Float, nullable=False))
    meta.create_all(conn)


def _v6_sweeps(conn: Connection) -> None:
    meta = MetaData()
    Table("sweeps", meta,
          Column("id", String(32), primary_key=True), Column("owner", String(64), nullable=False),
          Column("spec", Text, nullable=False), Column("status", String(16), nullable=False),
          Column("message", Text), Column("points", Text, nullable=False), Column("created", Float, nullable=False))
    meta.create_all(conn)


#: ``STEPS[k]`` upgrades a version-k database to version k + 1.
STEPS: list[Callable[[Connection], None]] = [_v1_tables, _v2_owner_and_checkpoints, _v3_keyframes_and_public,
                                             _v4_rooms, _v5_comparisons, _v6_sweeps]
LATEST = len(STEPS)


def version(conn: Connection) -> int:
    tables = set(inspect(conn).get_table_names())
    if "schema_version" in tables:
        return int(conn.execute(text("SELECT version FROM schema_version")).scalar_one())
    return 1 if "runs" in tables else 0


def _set_version(conn: Connection, v: int) -> None:
    if "schema_version" not in inspect(conn).get_table_names():
        conn.execute(text("CREATE TABLE schema_version (version INTEGER NOT NULL)"))
        conn.execute(text("INSERT INTO schema_version (version) VALUES (:v)"), {"v": v})
    else:
        conn.execute(text("UPDATE schema_version SET version = :v"), {"v": v})


def upgrade(conn: Connection) -> int:
    """Bring the database to :data:`LATEST`; returns the version it had. Refuses one newer than this code."""
    found = version(conn)
    if found > LATEST:
        raise RuntimeError(f"the database has schema version {found}, newer than this server's {LATEST}; "
                           "upgrade the server")
    for v in range(found, LATEST):
        STEPS[v](conn)
        _set_version(conn, v + 1)
    return found
