"""Statements of the busiest paths, compiled once and run on SQLite's own connection.

Measured on the 2-core machine: a cached Core UPDATE costs ~140 µs through
`AsyncSession.execute` (a greenlet per call, the session's bookkeeping, the execution
context, the result object) and ~280 µs inside a loaded server, where sqlite3 runs the same
statement in ~4 µs. A paid order took about 44 statements. `Prepared` compiles a Core
statement once per dialect with SQLAlchemy (same SQL, same bind and result conversions)
and, inside a write transaction on the embedded default, runs it straight on the
transaction's sqlite3 connection, on the event loop's thread, as the inline driver does
(db/sqlite_driver.py). Anywhere else (PostgreSQL, a read session) it is plain
`session.execute`, so both paths keep one meaning and the tests run both.

Rules for the statements given to it: bound values through `bindparam(...)` named unlike
the table's columns outside VALUES/SET (`b_id`), no expanding IN lists; column defaults and
on-update values are applied as SQLAlchemy would.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import BindParameter, ColumnElement, SQLColumnExpression, bindparam, exc
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import Executable

from passerelle.db.group_commit import MemberSession
from passerelle.db.sqlite_driver import inline_sqlite

_CONNECTION_KEY = "passerelle.prepared.connection"
_SQLITE_DIALECT = SQLiteDialect_aiosqlite()

Params = Mapping[str, Any]


def _compile(statement: Executable, dialect: Dialect, column_keys: list[str]) -> SQLCompiler:
    compiled = statement.compile(dialect=dialect, column_keys=column_keys)  # type: ignore[attr-defined]
    assert isinstance(compiled, SQLCompiler)
    return compiled


def bound(*names: str) -> dict[str, BindParameter[Any]]:
    """`{name: bindparam(name)}` for an INSERT's VALUES: each column from the parameter of
    the same name (allowed inside VALUES, unlike elsewhere in the statement)."""
    return {name: bindparam(name) for name in names}


class _Compiled:
    """One statement's SQL for a dialect, and how to turn values in and rows out."""

    def __init__(self, statement: Executable, dialect: Dialect) -> None:
        compiled = _compile(statement, dialect, [])
        filled = {column.key for column in [*compiled.insert_prefetch, *compiled.update_prefetch]}
        given = [name for name in dict.fromkeys(compiled.positiontup or ()) if name not in filled]
        # `session.execute(statement, params)` compiles with the parameters' names as column
        # keys: a name that is also a column of an INSERT or UPDATE becomes a value there.
        # Refused, rather than meaning two things on the two paths.
        if _compile(statement, dialect, given).string != compiled.string:
            raise ValueError(f"a parameter is named like a column of the table: {given}")
        if compiled.literal_execute_params or compiled.post_compile_params:
            raise ValueError("Prepared statements take no expanding IN lists or literal-execute values")
        self.dialect = dialect
        self.sql = compiled.string
        names = list(compiled.positiontup or ())
        processors: Mapping[str, Any] = compiled._bind_processors  # one callable per name here (no tuples)
        binds = compiled.binds
        self.names = names
        # Only the positions that convert their value (datetimes, JSON...): most do not.
        self.processed: list[tuple[int, Callable[[Any], Any]]] = [
            (index, processors[name]) for index, name in enumerate(names) if processors.get(name) is not None
        ]
        self.fixed = {name: binds[name].effective_value for name in names if not binds[name].required}
        # Python-side column defaults SQLAlchemy would fill in at execution time.
        self.defaults: list[tuple[str, Any]] = [
            (column.key, column.default) for column in compiled.insert_prefetch if column.default is not None
        ] + [(column.key, column.onupdate) for column in compiled.update_prefetch if column.onupdate is not None]
        columns = compiled._result_columns
        self.row_type: type | None = None
        self.result_processors: list[Callable[[Any], Any] | None] = []
        if columns:
            self.row_type = collections.namedtuple("Row", [entry[0] for entry in columns], rename=True)  # type: ignore[misc]
            self.result_processors = [entry[3]._cached_result_processor(dialect, None) for entry in columns]
        self.converts_rows = any(processor is not None for processor in self.result_processors)

    def values(self, params: Params) -> list[Any]:
        given: Mapping[str, Any] = params
        if self.defaults:
            given = dict(params)
            for name, default in self.defaults:
                if name not in given:
                    given[name] = default.arg(None) if default.is_callable else default.arg
        if self.fixed:
            given = {**self.fixed, **given}
        out = [given[name] for name in self.names]
        for index, process in self.processed:
            value = out[index]
            if value is not None:
                out[index] = process(value)
        return out

    def shape(self, rows: list[tuple[Any, ...]]) -> list[Any]:
        row_type = self.row_type
        assert row_type is not None
        if not self.converts_rows:
            return [row_type._make(row) for row in rows]  # type: ignore[attr-defined]
        processors = self.result_processors
        return [
            row_type._make(  # type: ignore[attr-defined]
                [
                    value if process is None or value is None else process(value)
                    for process, value in zip(processors, row, strict=True)
                ]
            )
            for row in rows
        ]


class Prepared:
    """A Core statement for the hot paths. `rows` and `first` answer rows with attribute
    access (`row.id`), `scalar` the first column of the first row, `rowcount` how many rows
    an UPDATE or DELETE matched."""

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        # Checked now, at import time, whatever the backend: compiled for SQLite's dialect.
        self._sqlite: _Compiled | None = _Compiled(statement, _SQLITE_DIALECT)

    def _compiled_for(self, dialect: Dialect) -> _Compiled:
        if self._sqlite is None or self._sqlite.dialect is not dialect:
            self._sqlite = _Compiled(self.statement, dialect)  # the engine's own dialect, once
        return self._sqlite

    async def _run_raw(self, session: AsyncSession, params: Params, many: Sequence[Params] | None) -> Any:
        """The sqlite3 cursor after running the statement, or None where SQLAlchemy must run it."""
        inline = await _inline_connection(session)
        if inline is None:
            return None
        raw, dialect = inline
        compiled = self._compiled_for(dialect)
        try:
            if many is not None:
                return raw.executemany(compiled.sql, [compiled.values(one) for one in many])
            return raw.execute(compiled.sql, compiled.values(params))
        except sqlite3.Error as error:
            # The same exception classes SQLAlchemy raises (IntegrityError...), so callers
            # catching them work on either path.
            raise exc.DBAPIError.instance(compiled.sql, params, error, sqlite3.Error) from error

    async def rows(self, session: AsyncSession, params: Params | None = None) -> list[Any]:
        given = params or {}
        cursor = await self._run_raw(session, given, None)
        if cursor is None:
            return list((await session.execute(self.statement, given)).all())
        compiled = self._sqlite
        assert compiled is not None
        return compiled.shape(cursor.fetchall())

    async def first(self, session: AsyncSession, params: Params | None = None) -> Any | None:
        found = await self.rows(session, params)
        return found[0] if found else None

    async def scalar(self, session: AsyncSession, params: Params | None = None) -> Any | None:
        row = await self.first(session, params)
        return None if row is None else row[0]

    async def rowcount(self, session: AsyncSession, params: Params | None = None) -> int:
        given = params or {}
        cursor = await self._run_raw(session, given, None)
        if cursor is None:
            result: Any = await session.execute(self.statement, given)
            return int(result.rowcount)
        return int(cursor.rowcount)

    async def run_many(self, session: AsyncSession, many: Sequence[Params]) -> None:
        """One statement for many parameter sets (an INSERT of several rows)."""
        if not many:
            return
        cursor = await self._run_raw(session, many[0], many)
        if cursor is None:
            await session.execute(self.statement, list(many))


class PreparedForEach:
    """A read run for each of several values of one bound parameter (the SKUs of a cart,
    the merchants of a checkout). On SQLite's own connection it is one Prepared statement
    per value (a few µs each, and a Prepared takes no IN list); where SQLAlchemy runs it
    (PostgreSQL) it is one statement with an IN list, saving a network round trip per value.
    Rows come value by value on SQLite, in the statement's order otherwise: callers group
    them by that column themselves."""

    def __init__(
        self, build: Callable[[ColumnElement[bool]], Executable], column: SQLColumnExpression[Any], name: str
    ) -> None:
        self.name = name
        self._each = Prepared(build(column == bindparam(name)))
        self._all = build(column.in_(bindparam(name, expanding=True)))

    async def rows(self, session: AsyncSession, values: Sequence[Any], params: Params | None = None) -> list[Any]:
        values = list(dict.fromkeys(values))  # each once, as an IN list reads them
        if not values:
            return []
        given = dict(params or {})
        if await _inline_connection(session) is not None:
            found: list[Any] = []
            for value in values:
                found += await self._each.rows(session, {**given, self.name: value})
            return found
        return list((await session.execute(self._all, {**given, self.name: list(values)})).all())


async def _inline_connection(session: AsyncSession) -> tuple[sqlite3.Connection, Dialect] | None:
    """The sqlite3 connection of the session's write transaction and its dialect, when
    statements may run on it directly (db/sqlite_driver.py), else None. Looked up once per
    transaction and again in each `begin_nested()` (the session's `bind` and its dialect are
    properties worth skipping; `session.connection()` emits a nested SAVEPOINT still pending)."""
    if type(session) is MemberSession:
        raw = session.raw_connection()  # the member's savepoint is open on it
        return None if raw is None else (raw, session.write_dialect)
    sync = session.sync_session
    transaction = sync.get_nested_transaction() or sync.get_transaction()
    info = sync.info
    cached = info.get(_CONNECTION_KEY)
    if cached is not None and transaction is not None and cached[0] is transaction:
        raw = inline_sqlite(cached[1])
        return None if raw is None else (raw, cached[2])
    bind = session.bind
    if bind is None or bind.dialect.name != "sqlite":
        return None
    connection = (await session.connection()).sync_connection
    adapter = connection.connection.dbapi_connection  # type: ignore[union-attr]
    info[_CONNECTION_KEY] = (sync.get_nested_transaction() or sync.get_transaction(), adapter, bind.dialect)
    raw = inline_sqlite(adapter)
    return None if raw is None else (raw, bind.dialect)


Entity = TypeVar("Entity", bound=DeclarativeBase)


def plain_copy(entity: type[Entity], values: Mapping[str, Any]) -> Entity:
    """An `entity` holding `values` (keyed by attribute name), made the way SQLAlchemy makes
    the objects it loads: no __init__, no events. For the plain, read-only objects the
    buying path hands back from Core rows: the declarative constructor cost 20-45 us an
    object, ~5 % of a paid order. Not in any session: changing it saves nothing."""
    made: Entity = entity.__mapper__.class_manager.new_instance()
    made.__dict__.update(values)
    return made
