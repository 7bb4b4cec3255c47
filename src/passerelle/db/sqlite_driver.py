"""aiosqlite, one thread hop per statement, and none inside a write transaction.

SQLAlchemy's aiosqlite adapter makes four round trips to aiosqlite's thread for a SELECT
(open a cursor, execute, fetch, close) and three for a write; each hop costs a queue put,
a thread wake-up and a loop wake-up. Here the cursor is opened, executed, read and closed
in one call on that thread. Same sqlite3 connection, same statements, same errors.

On the write engine's connections (`inline=True`) every statement after the
`BEGIN IMMEDIATE` runs on the event loop's thread, without the hop (about half of a simple
statement's CPU). Such a statement holds SQLite's write lock already, so it never waits
for a lock (busy_timeout); what could wait stays on aiosqlite's thread: COMMIT (fsync,
checkpoints) and ROLLBACK, PRAGMAs, and the BEGIN that takes the lock when the lock is not
free. That BEGIN is first tried here without waiting (writers queue on `Database.write_lock`
before it, so the lock is nearly always free): ~4 % more paid orders/s in bench checkout,
where each group commit's BEGIN made the event loop wait for the thread with the lock held.
The price: a statement that runs long inside a write transaction now also pauses the event
loop, where before it paused every other writer only. Write transactions are kept short for
that reason anyway.
"""

from __future__ import annotations

import collections
import sqlite3
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT

_Outcome = tuple[Any, list[Any] | None, int, int | None]

BUSY_TIMEOUT_MS = 10_000  # how long a statement that must wait for the lock waits (db/engine.py)
_BEGIN_WRITE = "BEGIN IMMEDIATE"
_NO_WAIT = "PRAGMA busy_timeout=0"
_WAIT = f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}"


def _begin_without_waiting(raw: sqlite3.Connection) -> _Outcome | None:
    """BEGIN IMMEDIATE when SQLite's write lock is free, else None (nothing begun): the
    caller then waits for it on aiosqlite's thread, never on the event loop's."""
    raw.execute(_NO_WAIT)
    try:
        return _run_statement(raw, _BEGIN_WRITE, None, False)
    except sqlite3.OperationalError as busy:
        if busy.sqlite_errorcode in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
            return None
        raise
    finally:
        raw.execute(_WAIT)


def _run_statement(raw: sqlite3.Connection, operation: Any, parameters: Any, many: bool) -> _Outcome:
    """Open, execute, read and close a cursor: the description, rows, rowcount, lastrowid."""
    cursor = raw.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else None
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ("_description", "_rowcount", "_lastrowid", "_arraysize")

    def __init__(self, adapt_connection: Any) -> None:  # no aiosqlite cursor: no hop to open one
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None
        self._arraysize = 1

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    async def _async_soft_close(self) -> None:
        return None  # nothing open: the rows and description are already held here

    async def _run(self, operation: Any, parameters: Any, *, many: bool) -> None:
        raw: sqlite3.Connection = self._connection._conn
        async with self._adapt_connection._execute_mutex:
            outcome = await self._connection._execute(_run_statement, raw, operation, parameters, many)
        self._keep(outcome)

    def _keep(self, outcome: _Outcome) -> None:
        description, rows, self._rowcount, self._lastrowid = outcome
        self._description = description
        if rows is not None:
            self._rows = collections.deque(rows)

    async def _execute_async(self, operation: Any, parameters: Any) -> None:
        await self._run(operation, parameters, many=False)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> None:
        await self._run(operation, seq_of_parameters, many=True)


# Statements that may wait (for the write lock, fsync, a checkpoint) keep the thread hop.
_MAY_WAIT = ("BEGIN", "begin", "COMMIT", "commit", "ROLLBACK", "rollback", "PRAGMA", "pragma")


# A bulk write (a click flush, a CSV import) keeps the thread hop: run inline, its thousands
# of rows would hold the event loop (live rooms, claims) for as long; sqlite3 lets the loop
# run while the thread steps through them.
INLINE_MAX_ROWS = 256


class InlineCursor(OneHopCursor):
    """For write-engine connections: statements inside the transaction run right here, in a
    coroutine that never suspends (SQLAlchemy's async layer expects one await per statement;
    it costs a greenlet switch, not a trip through the loop and another thread)."""

    __slots__ = ()

    async def _run(self, operation: Any, parameters: Any, *, many: bool) -> None:
        if operation == _BEGIN_WRITE and not self._adapt_connection._execute_mutex.locked():
            begun = _begin_without_waiting(self._connection._conn)
            if begun is not None:
                self._keep(begun)
                return
        if (
            operation.lstrip().startswith(_MAY_WAIT)
            or (many and len(parameters) > INLINE_MAX_ROWS)
            or self._adapt_connection._execute_mutex.locked()
        ):
            await super()._run(operation, parameters, many=many)
            return
        self._keep(_run_statement(self._connection._conn, operation, parameters, many))


class _Connection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneHopCursor


class _InlineConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = InlineCursor


class OneHopDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def __init__(self, aiosqlite: Any, sqlite: Any, *, inline: bool) -> None:
        super().__init__(aiosqlite, sqlite)
        self.inline = inline

    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        adapted = super().connect(*arg, **kw)
        return (_InlineConnection if self.inline else _Connection)(self, adapted._connection)


def one_hop_dbapi(*, inline: bool = False) -> OneHopDBAPI:
    """The DBAPI module to give `create_async_engine(..., module=...)` for sqlite+aiosqlite.
    `inline`: only for an engine whose transactions all open with BEGIN IMMEDIATE."""
    return OneHopDBAPI(aiosqlite, sqlite3, inline=inline)


def inline_sqlite(adapter: Any) -> sqlite3.Connection | None:
    """The sqlite3 connection behind a write-engine adapter, to run a statement on directly
    (db/prepared.py), or None: another engine's connection, or a hop to the thread in flight."""
    if type(adapter) is not _InlineConnection or adapter._execute_mutex.locked():
        return None
    raw: sqlite3.Connection = adapter._connection._conn
    return raw


def inline_savepoints(dialect: Any) -> None:
    """SAVEPOINT and RELEASE straight on the write transaction's sqlite3 connection.

    SQLAlchemy names each savepoint anew (sa_savepoint_1, _2...), so its statement cache
    never holds one: every SAVEPOINT and RELEASE was compiled and run through a full
    execution context, ~9 % of a paid order's CPU with group commit (a savepoint per
    member). SQLAlchemy still keeps the nested transaction's state; only the statement
    is sent here. ROLLBACK TO (the rare path) keeps SQLAlchemy's way, errors wrapped."""
    quote = dialect.identifier_preparer.quote

    def inline(verb: str, fallback: Any) -> Any:
        def run(connection: Any, name: str) -> None:
            raw = inline_sqlite(connection.connection.dbapi_connection)
            if raw is None:
                fallback(connection, name)
            else:
                raw.execute(verb + quote(name))

        return run

    dialect.do_savepoint = inline("SAVEPOINT ", dialect.do_savepoint)
    dialect.do_release_savepoint = inline("RELEASE SAVEPOINT ", dialect.do_release_savepoint)


def in_transaction(adapter: Any) -> bool:
    """Whether the sqlite3 connection behind an adapter has a transaction open (read on the
    calling thread: a flag of the connection, no statement)."""
    raw: sqlite3.Connection = adapter._connection._conn
    return raw.in_transaction
