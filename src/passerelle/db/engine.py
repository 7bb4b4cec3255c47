"""Async engine creation with the per-backend settings the product relies on."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from pathlib import Path
from typing import Any, TypeVar

import orjson
from sqlalchemy import event, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from passerelle.db.group_commit import GroupCommit, MemberSession
from passerelle.db.sqlite_driver import BUSY_TIMEOUT_MS, in_transaction, inline_savepoints, one_hop_dbapi
from passerelle.db.write_lock import WriteLock

T = TypeVar("T")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the writer; FULL makes every commit durable.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()


def _temp_store_in_memory(dbapi_connection: Any, _record: Any) -> None:
    # A write transaction with savepoints (every group commit member has one) keeps the
    # pages it may have to put back in a statement journal, by default a temporary file
    # that SQLite creates and unlinks at once, once a transaction or so. On this machine's
    # ext4 such a file costs ~20 us of CPU quiet, and up to ~800 us once its directory's
    # block group holds many inodes deleted in the last minutes, which these very files
    # cause: ~5 % of the server's main thread in bench checkout, with the write lock held
    # (docs/performance.md, Checkout, session 17). A write transaction's journal is as
    # small as its writes; read connections keep their sorts' spill files on disk.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


def _reset_open_transaction(dbapi_connection: Any, _record: Any, _state: Any) -> None:
    if in_transaction(dbapi_connection):
        dbapi_connection.rollback()


def _json_text(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def make_engine(url: str, *, echo: bool = False, for_writes: bool = True) -> AsyncEngine:
    """An engine for `url`. On SQLite, `for_writes` engines take the write lock at BEGIN."""
    # JSON columns (outbox payloads, stored answers, attributions) through orjson: the
    # standard library's encoder was ~3 % of the server's time in bench checkout.
    kwargs: dict[str, Any] = {"echo": echo, "json_serializer": _json_text, "json_deserializer": orjson.loads}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": 10}
        if url.startswith("sqlite+aiosqlite"):
            # One thread hop per statement; none inside a write transaction (sqlite_driver.py).
            kwargs["module"] = one_hop_dbapi(inline=for_writes)
            # The pool's default reset is a rollback() at every checkin: on aiosqlite, a trip
            # to its thread even after a COMMIT, when there is nothing to roll back (a third
            # of a request's hops). `_reset_open_transaction` rolls back only an open one.
            kwargs["pool_reset_on_return"] = None
    else:
        kwargs.update(pool_size=10, max_overflow=20, pool_pre_ping=True)
    engine = create_async_engine(url, **kwargs)
    if url.startswith("sqlite+aiosqlite"):
        event.listen(engine.sync_engine, "reset", _reset_open_transaction)
        if for_writes:
            inline_savepoints(engine.sync_engine.dialect)
    if url.startswith("sqlite"):
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        if for_writes:
            event.listen(engine.sync_engine, "connect", _temp_store_in_memory)
            _serialize_sqlite_writes(engine)
    return engine


def _serialize_sqlite_writes(engine: AsyncEngine) -> None:
    """Open SQLite transactions with BEGIN IMMEDIATE.

    pysqlite's deferred BEGIN lets two writers both read, then one fails to upgrade its
    lock ("database is locked"). Taking the write lock up front makes writers queue on
    busy_timeout instead, which is what a conditional UPDATE needs to stay correct.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _no_autobegin(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


class Database:
    """The engines of one configured database: a write side and a read side.

    On PostgreSQL both sides are the same engine. On SQLite, reads use deferred
    transactions so they run beside the single writer (WAL) instead of queueing.
    """

    def __init__(self, url: str, *, echo: bool = False, group_commit: bool = False) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.engine = make_engine(url, echo=echo, for_writes=True)
        self.read_engine = make_engine(url, echo=echo, for_writes=False) if self.is_sqlite else self.engine
        self.sessions = make_sessionmaker(self.engine)
        self.read_sessions = make_sessionmaker(self.read_engine)
        # SQLite has one writer. Queueing writers here, in order, beats letting each
        # connection spin in SQLite's busy handler (sleeps of up to 100 ms at a time); the
        # lock also queues this process's writers with other processes' (db/write_lock.py).
        self.write_lock: WriteLock | None = WriteLock(_lock_path(url)) if self.is_sqlite else None
        # The buying requests' shared write transactions (db/group_commit.py), SQLite only, on
        # by default (`PASSERELLE_GROUP_COMMIT`): once the buying path's statements got cheap, the
        # event loop waited on each request's fsync; grouped, it works through it
        # (docs/performance.md, Checkout).
        self.group_commit: GroupCommit | None = (
            GroupCommit(self.engine, self.write_lock) if group_commit and self.write_lock is not None else None
        )

    def write_guard(self) -> AbstractAsyncContextManager[object]:
        """Hold while a write transaction is open (a no-op on PostgreSQL)."""
        return self.write_lock if self.write_lock is not None else nullcontext()

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[AsyncSession]:
        """A session for one write transaction, committed on success. For background work;
        requests get theirs from the unit of work."""
        async with self.write_guard(), self.sessions() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    async def write_with_requests(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """`work` in a write transaction, committed on success; an exception undoes it all.
        With group commit on (the server on SQLite), as a member of the buying requests'
        shared transaction (db/group_commit.py) rather than a transaction of its own: no
        BEGIN and COMMIT on aiosqlite's thread, no fsync of its own, and no pause of the
        requests while it holds the write lock. Returns once its writes are durable, as
        `writing()` does. For background work made of prepared statements (db/prepared.py):
        they run inline there, where the ORM would go through aiosqlite's thread."""
        committer = self.group_commit
        if committer is None:
            async with self.writing() as session:
                return await work(session)

        async def member(session: MemberSession) -> T:
            outcome = await work(session)
            await session.commit()  # keeps its writes in the group's transaction
            return outcome

        outcome, _ = await committer.run(member)
        return outcome

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.read_engine is not self.engine:
            await self.read_engine.dispose()
        if self.write_lock is not None:
            self.write_lock.close()


def _lock_path(url: str) -> Path | None:
    """`<database>.write-lock` beside a SQLite file; None for an in-memory database."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).with_name(Path(database).name + ".write-lock")
