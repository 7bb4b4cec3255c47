"""Declarative base shared by every domain's models."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# Stable constraint names so Alembic migrations are identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def bind_processor(self, dialect: Dialect) -> Callable[[datetime | None], Any] | None:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        # SQLite keeps the UTC wall time as text in its dialect's DATETIME format
        # ("YYYY-MM-DD HH:MM:SS.ffffff"): a UTC datetime's isoformat, less the offset.
        # The rows of one request share its `now`: the last two values' texts are kept (a
        # datetime is immutable, so the same object has the same text; two, because an
        # order's row alternates its `now` and its hold's end). bench checkout binds ~25
        # datetimes per paid order, most of them the same.
        last: list[tuple[Any, str, Any, str]] = [(None, "", None, "")]  # swapped whole

        def process(value: datetime | None) -> str | None:
            if value is None:
                return None
            seen, text, before, before_text = last[0]
            if value is seen:
                return text
            if value is before:
                return before_text
            in_utc = value
            if value.tzinfo is not UTC:  # utcnow() and the clocks give UTC already
                if value.tzinfo is None:
                    raise ValueError("naive datetime given to a UTC column")
                in_utc = value.astimezone(UTC)
            made = in_utc.isoformat(" ", "microseconds")[:26]  # less its "+00:00"
            last[0] = (value, made, seen, text)
            return made

        return process

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
