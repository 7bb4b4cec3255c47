"""The SQLite driver: statements inside a write transaction run on the loop's thread, the
rest on aiosqlite's; either way the same results, errors and rollbacks."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import event, func, insert, select
from sqlalchemy.exc import IntegrityError

from passerelle.infra.outbox import OutboxMessage
from passerelle.payments.models import PaymentEvent
from passerelle.state import AppState
from tests.loop_ticks import counting_ticks


def _executed_where(state: AppState) -> list[tuple[str, bool]]:
    """(first word, ran on the loop's thread) of each statement the write engine's new
    connections run, as sqlite3 itself sees them."""
    ran: list[tuple[str, bool]] = []

    def on_loop() -> bool:
        return threading.current_thread() is threading.main_thread()

    @event.listens_for(state.db.engine.sync_engine, "connect")
    def trace(dbapi_connection: Any, _record: object) -> None:
        raw = dbapi_connection._connection._conn
        raw.set_trace_callback(lambda sql: ran.append((sql.split()[0].upper(), on_loop())))

    return ran


async def test_given_a_write_transaction_then_its_statements_and_begin_run_on_the_loop_thread_and_commit_does_not(
    state: AppState,
) -> None:
    await state.db.engine.dispose()  # fresh connections, so the trace callback is installed
    ran = _executed_where(state)
    async with state.db.writing() as session:
        session.add(OutboxMessage(topic="t", payload={}))
        await session.flush()
        count = (await session.execute(select(func.count()).select_from(OutboxMessage))).scalar_one()
    assert count == 1
    kinds = {word: on_loop for word, on_loop in ran if word in ("BEGIN", "INSERT", "SELECT", "COMMIT")}
    # The BEGIN found the write lock free: taken at once, without the hop.
    assert kinds == {"BEGIN": True, "INSERT": True, "SELECT": True, "COMMIT": False}


async def test_given_the_write_lock_held_elsewhere_then_begin_waits_on_the_thread_and_the_loop_stays_free(
    state: AppState, tmp_path: Any
) -> None:
    """A writer that does not queue on Database.write_lock (another program on the file):
    the BEGIN tried without waiting finds SQLite busy, and waits on aiosqlite's thread."""
    await state.db.engine.dispose()
    ran = _executed_where(state)
    path = state.db.engine.url.database
    assert path
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")

    async def write() -> None:
        async with state.db.writing() as session:
            session.add(OutboxMessage(topic="after", payload={}))

    try:
        async with counting_ticks() as ticks:
            writing = asyncio.create_task(write())
            await asyncio.sleep(0.3)
            assert not writing.done() and ticks.count >= 10  # waiting, and the loop ran meanwhile
            other.execute("COMMIT")
            await asyncio.wait_for(writing, 5)
    finally:
        other.close()
    begins = [on_loop for word, on_loop in ran if word == "BEGIN"]
    assert begins[-1] is False  # the one that waited did so on the thread
    async with state.db.read_sessions() as session:
        assert (await session.execute(select(func.count()).select_from(OutboxMessage))).scalar_one() == 1


async def test_given_an_inline_statement_fails_then_the_error_is_the_usual_one_and_the_rollback_undoes_earlier_writes(
    state: AppState,
) -> None:
    row = {
        "provider": "sandbox",
        "event_id": "evt_dup",
        "kind": "payment.succeeded",
        "outcome": "applied",
        "payload": {},
    }
    async with state.db.writing() as session:
        session.add(PaymentEvent(**row))
    with pytest.raises(IntegrityError):
        async with state.db.writing() as session:
            session.add(OutboxMessage(topic="written then undone", payload={}))
            await session.flush()
            session.add(PaymentEvent(**row))  # the same (provider, event_id): refused
            await session.flush()
    async with state.db.read_sessions() as session:
        assert (await session.execute(select(func.count()).select_from(OutboxMessage))).scalar_one() == 0
        assert (await session.execute(select(func.count()).select_from(PaymentEvent))).scalar_one() == 1


async def test_given_a_core_executemany_on_the_write_connection_then_it_runs_inline_and_returns_rows(
    state: AppState,
) -> None:
    async with state.db.writing() as session:
        connection = await session.connection()  # AsyncConnection.execute insists on one await
        inserted = await connection.execute(
            insert(OutboxMessage).returning(OutboxMessage.topic, sort_by_parameter_order=True),
            [{"topic": f"t{i}", "payload": {}} for i in range(3)],
        )
        assert list(inserted.scalars()) == ["t0", "t1", "t2"]


async def test_given_a_bulk_executemany_then_it_keeps_the_thread_hop_and_the_loop_stays_free(
    state: AppState,
) -> None:
    from passerelle.db.sqlite_driver import INLINE_MAX_ROWS

    await state.db.engine.dispose()
    ran = _executed_where(state)
    async with state.db.writing() as session:
        connection = await session.connection()
        await connection.execute(insert(OutboxMessage), [{"topic": "few", "payload": {}}])
        await connection.execute(
            insert(OutboxMessage), [{"topic": "bulk", "payload": {}} for _ in range(INLINE_MAX_ROWS + 1)]
        )
    inserts = [on_loop for word, on_loop in ran if word == "INSERT"]
    assert inserts[0] is True and inserts[-1] is False  # one row inline, the bulk on the thread
    async with state.db.read_sessions() as session:
        total = (await session.execute(select(func.count()).select_from(OutboxMessage))).scalar_one()
    assert total == INLINE_MAX_ROWS + 2


async def test_given_a_committed_session_then_checkin_makes_no_trip_to_roll_back_and_an_open_transaction_is_still_rolled_back(
    state: AppState, monkeypatch: pytest.MonkeyPatch
) -> None:
    trips: list[str] = []
    hop = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        trips.append(getattr(fn, "__name__", "?"))
        return await hop(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    async with state.db.writing() as session:  # the pool's first connection (its set-up rolls back once)
        session.add(OutboxMessage(topic="kept", payload={}))
    trips.clear()
    async with state.db.writing() as session:
        session.add(OutboxMessage(topic="kept", payload={}))
    assert trips == ["commit"]  # BEGIN IMMEDIATE inline (the lock was free), COMMIT: no rollback at checkin

    # A connection handed back with its transaction still open (BEGIN run below
    # SQLAlchemy) is rolled back at checkin: the pool's reset still does its job.
    async with state.db.engine.connect() as connection:
        raw = (await connection.get_raw_connection()).driver_connection
        assert raw is not None
        await raw.execute("BEGIN IMMEDIATE")
        await raw.execute(
            "INSERT INTO outbox_messages (topic, payload, created_at, available_at, attempts, last_error)"
            " VALUES ('lost', '{}', '2026-01-01', '2026-01-01', 0, '')"
        )
    assert trips[-1] == "rollback"
    async with state.db.read_sessions() as session:
        topics = (await session.execute(select(OutboxMessage.topic))).scalars().all()
    assert topics == ["kept", "kept"]


async def test_given_savepoints_in_a_write_transaction_then_they_run_on_sqlite3_directly_and_still_undo_or_keep_writes(
    state: AppState,
) -> None:
    await state.db.engine.dispose()
    ran = _executed_where(state)
    through_sqlalchemy: list[str] = []

    @event.listens_for(state.db.engine.sync_engine, "before_cursor_execute")
    def seen(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        through_sqlalchemy.append(statement.split()[0].upper())

    async with state.db.writing() as session:
        kept = await session.begin_nested()
        session.add(OutboxMessage(topic="kept", payload={}))
        await kept.commit()  # RELEASE
        undone = await session.begin_nested()
        session.add(OutboxMessage(topic="undone", payload={}))
        await session.flush()
        await undone.rollback()  # ROLLBACK TO, SQLAlchemy's own way
    async with state.db.read_sessions() as session:
        topics = (await session.execute(select(OutboxMessage.topic))).scalars().all()
    assert topics == ["kept"]
    assert ("SAVEPOINT", True) in ran and ("RELEASE", True) in ran
    assert "SAVEPOINT" not in through_sqlalchemy and "RELEASE" not in through_sqlalchemy
    assert "ROLLBACK" in through_sqlalchemy
