"""Prepared statements (db/prepared.py): on SQLite's write transactions they run on sqlite3
directly, elsewhere through SQLAlchemy; either way the same values go in and come out."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import bindparam, event, exc, insert, select, update

from passerelle.cart.models import Cart
from passerelle.db.prepared import Prepared, PreparedForEach
from passerelle.infra.outbox import OutboxMessage
from passerelle.state import AppState

pytestmark = pytest.mark.both_backends

outbox = OutboxMessage.__table__
carts = Cart.__table__

ADD_MESSAGE = Prepared(
    insert(outbox)
    .values(topic=bindparam("topic"), payload=bindparam("payload"), attempts=bindparam("attempts"))
    .returning(outbox.c.id, outbox.c.created_at)
)
MESSAGE = Prepared(
    select(outbox.c.topic, outbox.c.payload, outbox.c.created_at, outbox.c.available_at, outbox.c.processed_at).where(
        outbox.c.id == bindparam("b_id")
    )
)
TRY_ATTEMPT = Prepared(
    update(outbox)
    .where(outbox.c.id == bindparam("b_id"), outbox.c.attempts < bindparam("most"))
    .values(attempts=outbox.c.attempts + 1)
)
ADD_CART = Prepared(insert(carts).values(user_id=None, guest_token_hash=bindparam("token")).returning(carts.c.id))
TOUCH_CART = Prepared(update(carts).where(carts.c.id == bindparam("b_id")))
CART_SEEN = Prepared(select(carts.c.updated_at).where(carts.c.id == bindparam("b_id")))
ADD_PLAIN = Prepared(insert(outbox).values(topic=bindparam("topic"), payload=bindparam("payload")))


@pytest.fixture
def driver_statements(state: AppState) -> Iterator[list[str]]:
    """Statements that went through SQLAlchemy's execution layer."""
    seen: list[str] = []

    def keep(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        seen.append(statement)

    event.listen(state.db.engine.sync_engine, "before_cursor_execute", keep)
    yield seen
    event.remove(state.db.engine.sync_engine, "before_cursor_execute", keep)


async def test_given_an_insert_then_defaults_json_and_times_come_back_as_the_orm_reads_them(state: AppState) -> None:
    payload = {"order": 7, "lines": [1, 2], "note": "café"}
    async with state.db.writing() as session:
        made = await ADD_MESSAGE.first(session, {"topic": "t.one", "payload": payload, "attempts": 0})
    assert made is not None and isinstance(made.id, int)
    assert made.created_at.tzinfo is not None and abs(made.created_at - datetime.now(UTC)) < timedelta(minutes=1)
    async with state.db.writing() as session:
        row = await MESSAGE.first(session, {"b_id": made.id})
        loaded = await session.get(OutboxMessage, made.id)
    assert loaded is not None and row is not None
    assert (row.topic, row.payload, row.created_at, row.available_at, row.processed_at) == (
        loaded.topic,
        loaded.payload,
        loaded.created_at,
        loaded.available_at,
        None,
    )


async def test_given_a_conditional_update_then_rowcount_says_whether_it_matched(state: AppState) -> None:
    async with state.db.writing() as session:
        made = await ADD_MESSAGE.first(session, {"topic": "t.two", "payload": {}, "attempts": 0})
        assert made is not None
        counts = [await TRY_ATTEMPT.rowcount(session, {"b_id": made.id, "most": 2}) for _ in range(3)]
        assert await MESSAGE.scalar(session, {"b_id": made.id}) == "t.two"
    assert counts == [1, 1, 0]


async def test_given_an_update_then_on_update_columns_move_as_with_sqlalchemy(state: AppState) -> None:
    async with state.db.writing() as session:
        cart_id = await ADD_CART.scalar(session, {"token": "guest-a"})
        before = await CART_SEEN.scalar(session, {"b_id": cart_id})
    async with state.db.writing() as session:
        assert await TOUCH_CART.rowcount(session, {"b_id": cart_id}) == 1
        after = await CART_SEEN.scalar(session, {"b_id": cart_id})
    assert before is not None and after is not None and after > before


async def test_given_a_unique_violation_then_sqlalchemys_integrity_error_is_raised(state: AppState) -> None:
    async with state.db.writing() as session:
        await ADD_CART.scalar(session, {"token": "guest-b"})
    with pytest.raises(exc.IntegrityError):
        async with state.db.writing() as session:
            await ADD_CART.scalar(session, {"token": "guest-b"})


async def test_given_a_rollback_then_what_ran_directly_is_gone_too(state: AppState) -> None:
    async with state.db.sessions() as session, session.begin():
        await ADD_MESSAGE.first(session, {"topic": "t.gone", "payload": {}, "attempts": 0})
        await ADD_PLAIN.run_many(session, [{"topic": "t.gone", "payload": {"n": n}} for n in range(3)])
        await session.rollback()
    async with state.db.read_sessions() as session:
        left = (await session.execute(select(outbox.c.id).where(outbox.c.topic == "t.gone"))).all()
    assert left == []


class _Undo(Exception):
    pass


async def test_given_a_nested_transaction_then_what_ran_directly_inside_it_is_undone_with_it(state: AppState) -> None:
    """`begin_nested()` emits its SAVEPOINT lazily; a prepared statement must land inside it,
    even with the connection already looked up for the enclosing transaction."""
    async with state.db.writing() as session:
        await ADD_MESSAGE.first(session, {"topic": "t.outer", "payload": {}, "attempts": 0})
        with pytest.raises(_Undo):
            async with session.begin_nested():
                await ADD_MESSAGE.first(session, {"topic": "t.nested", "payload": {}, "attempts": 0})
                raise _Undo()
        await ADD_MESSAGE.first(session, {"topic": "t.outer", "payload": {}, "attempts": 0})
    async with state.db.read_sessions() as session:
        topics = (await session.execute(select(outbox.c.topic).where(outbox.c.topic.like("t.%")))).scalars().all()
    assert sorted(topics) == ["t.outer", "t.outer"]


async def test_given_many_rows_then_one_call_inserts_them_all(state: AppState) -> None:
    async with state.db.writing() as session:
        await ADD_PLAIN.run_many(session, [{"topic": "t.many", "payload": {"n": n}} for n in range(5)])
    async with state.db.read_sessions() as session:
        payloads = (await session.execute(select(outbox.c.payload).where(outbox.c.topic == "t.many"))).scalars()
        assert sorted(p["n"] for p in payloads) == [0, 1, 2, 3, 4]


async def test_given_the_embedded_default_then_write_transactions_skip_sqlalchemys_execution(
    state: AppState, backend: str, driver_statements: list[str]
) -> None:
    async with state.db.writing() as session:
        await ADD_MESSAGE.first(session, {"topic": "t.path", "payload": {}, "attempts": 0})
        await TRY_ATTEMPT.rowcount(session, {"b_id": 1, "most": 5})
    through_sqlalchemy = [s for s in driver_statements if "outbox_messages" in s]
    if backend == "sqlite":
        assert through_sqlalchemy == []
        assert any(s.startswith("BEGIN") for s in driver_statements)  # the transaction itself is SQLAlchemy's
    else:
        assert len(through_sqlalchemy) == 2


MESSAGES_BY_TOPIC = PreparedForEach(
    lambda match: select(outbox.c.topic, outbox.c.payload).where(match).order_by(outbox.c.id),
    outbox.c.topic,
    "b_topic",
)


async def test_given_several_values_then_one_read_for_each_finds_their_rows_in_one_statement_off_sqlite(
    state: AppState, backend: str, driver_statements: list[str]
) -> None:
    async with state.db.writing() as session:
        await ADD_PLAIN.run_many(
            session, [{"topic": topic, "payload": {"n": n}} for n, topic in enumerate(["a", "b", "a", "c"])]
        )
    driver_statements.clear()
    async with state.db.writing() as session:
        found = await MESSAGES_BY_TOPIC.rows(session, ["a", "missing", "c", "a"], {})  # "a" twice, read once
        assert await MESSAGES_BY_TOPIC.rows(session, [], {}) == []

    assert sorted((row.topic, row.payload["n"]) for row in found) == [("a", 0), ("a", 2), ("c", 3)]
    reads = [s for s in driver_statements if "outbox_messages" in s]
    assert reads == ([] if backend == "sqlite" else [reads[0]])  # SQLite: on sqlite3; else one IN list
    if backend != "sqlite":
        assert " IN " in reads[0]


def test_given_a_parameter_named_like_a_column_of_the_update_then_it_is_refused_when_built() -> None:
    # On SQLAlchemy's path {"id": ...} would also become `SET id = ...`: two meanings.
    with pytest.raises((ValueError, exc.CompileError)):
        Prepared(update(carts).where(carts.c.id == bindparam("id")).values(guest_token_hash=None))


def test_given_an_expanding_in_list_then_it_is_refused_when_built() -> None:
    with pytest.raises(ValueError, match="IN lists"):
        Prepared(select(outbox.c.id).where(outbox.c.id.in_(bindparam("ids", expanding=True))))


def test_given_values_then_plain_copy_reads_like_the_entity_and_belongs_to_no_session() -> None:
    from sqlalchemy import inspect

    from passerelle.accounts.models import User
    from passerelle.db.prepared import plain_copy

    user = plain_copy(User, {"id": 7, "email": "a@b.fr", "display_name": "Ana"})
    assert (user.id, user.email, user.display_name) == (7, "a@b.fr", "Ana")
    assert user.language is None  # unset attributes read as on a new object
    assert inspect(user).transient
