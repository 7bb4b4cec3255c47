"""`UTCDateTime` on SQLite binds the same text as the dialect's DATETIME would, faster."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.dialects.sqlite.base import DATETIME

from passerelle.db.base import UTCDateTime
from passerelle.infra.outbox import OutboxMessage
from passerelle.state import AppState

DIALECT = SQLiteDialect_aiosqlite()
PARIS_WINTER = timezone(timedelta(hours=1))


@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 11, 11, 0, 0, tzinfo=UTC),
        datetime(2026, 11, 11, 0, 0, 0, 7, tzinfo=PARIS_WINTER),  # the day before, in UTC
        datetime(999, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
    ],
)
def test_given_an_aware_datetime_then_the_text_is_the_dialects_for_its_utc_time(value: datetime) -> None:
    bind = UTCDateTime()._cached_bind_processor(DIALECT)
    assert bind is not None
    dialects = DATETIME().bind_processor(DIALECT)

    assert bind(value) == dialects(value.astimezone(UTC))
    assert bind(value) == bind(value)  # the kept text of the same object


def test_given_a_naive_datetime_or_a_new_value_then_it_is_refused_or_written_anew() -> None:
    bind = UTCDateTime()._cached_bind_processor(DIALECT)
    assert bind is not None
    first = datetime(2026, 11, 11, 12, 0, tzinfo=UTC)
    assert bind(first) == "2026-11-11 12:00:00.000000"
    assert bind(first + timedelta(microseconds=1)) == "2026-11-11 12:00:00.000001"
    assert bind(None) is None
    with pytest.raises(ValueError, match="naive"):
        bind(datetime(2026, 11, 11, 12, 0))


def test_given_values_taken_in_turn_then_each_keeps_its_own_text() -> None:
    bind = UTCDateTime()._cached_bind_processor(DIALECT)
    assert bind is not None
    now = datetime(2026, 11, 11, 12, 0, tzinfo=UTC)
    hold = now + timedelta(minutes=15)
    later = now + timedelta(seconds=1)
    for value in [now, hold, now, now, hold, later, now, hold, later, hold]:
        assert bind(value) == value.isoformat(" ", "microseconds")[:26]


async def test_given_a_stored_datetime_then_it_reads_back_equal_and_in_utc(state: AppState) -> None:
    at = datetime(2026, 11, 11, 0, 30, 0, 250, tzinfo=PARIS_WINTER)
    async with state.db.writing() as session:
        message = OutboxMessage(topic="clock", payload={}, available_at=at)
        session.add(message)
    async with state.db.read_sessions() as session:
        stored = await session.get(OutboxMessage, message.id)
    assert stored is not None and stored.available_at == at and stored.available_at.tzinfo == UTC
