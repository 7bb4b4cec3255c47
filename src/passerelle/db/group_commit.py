"""Group commit for SQLite: concurrent write requests share one transaction and one COMMIT.

SQLite has one writer and `synchronous=FULL` makes every COMMIT an fsync. Requests that
queue for the write lock while a COMMIT runs are applied, one after the other, in the
next write transaction, each in its own SAVEPOINT (SQLAlchemy's
`join_transaction_mode="create_savepoint"`: the member's `session.commit()` releases its
savepoint, `session.rollback()` rolls back to it, so one failing member undoes only its
own writes). The last member of a group, the one that finds nobody waiting behind it,
COMMITs; every member answers only after that COMMIT. No timer: a group is whatever
arrived while the previous COMMIT ran (at most `max_group` members, so that the other
writers queued on `Database.write_lock`, the outbox for one, get their turn).

A member sees what the members before it in its group wrote (same connection), which is
what it would have seen had each committed alone: their writes become durable with its
own, or not at all. Only for SQLite: on PostgreSQL writers run side by side, each in its
own transaction.

On by default for the server (`PASSERELLE_GROUP_COMMIT`, `Database(url, group_commit=True)`).
It was off while a buying request cost ~8-12 ms of CPU: the savepoints and the waves of
answers then cost more than the fsyncs saved. Once the statements ran on sqlite3 directly
(db/prepared.py) and a request cost ~3-5 ms, the event loop spent a quarter of its time
waiting on each request's fsync with the write lock held; grouped, 52-55 -> 70-79 paid
orders/s on the bench machine (docs/performance.md, Checkout).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from passerelle.db.sqlite_driver import inline_sqlite

T = TypeVar("T")

# In a session's `info`: its writes are serialized with every other writer of this process
# (a group commit member, or a request holding `Database.write_lock` throughout), and
# readers see only what is committed, so nobody sees them before its COMMIT. A step that
# commits early only to be seen in the meantime (an Idempotency-Key in flight) need not.
SERIALIZED_WRITES = "serialized_writes"
# In a group member's session `info`: its transaction is a SAVEPOINT of the group's open
# transaction, on a write-engine connection where SAVEPOINT and RELEASE go straight to
# sqlite3 (db/sqlite_driver.py). See `member_connection`.
GROUP_MEMBER = "group_member"


class _Group:
    __slots__ = ("connection", "members", "durable", "broken")

    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection
        self.members = 0
        self.broken = False  # a member's savepoint could not be rolled back
        self.durable: asyncio.Future[None] = asyncio.get_running_loop().create_future()


class GroupCommit:
    """Runs write work in shared SQLite transactions; see the module docstring."""

    def __init__(self, engine: AsyncEngine, write_lock: asyncio.Lock, *, max_group: int = 64) -> None:
        self._engine = engine
        self._write_lock = write_lock
        self._max_group = max_group
        self._slot = asyncio.Lock()  # one member at a time inside the open transaction
        self._waiting = 0
        self._open: _Group | None = None
        # Figures for the benchmark and the tests.
        self.commits = 0
        self.members = 0

    async def run(self, work: Callable[[AsyncSession], Awaitable[T]]) -> tuple[T, AsyncSession]:
        """Run `work` on a session joined to the open group transaction (its own savepoint;
        `work` commits or rolls back that savepoint itself). Returns once the group's COMMIT
        is durable: `work`'s result and its (closed) session, whose `info` the caller reads.
        `work`'s exception is raised after the COMMIT too; a failed COMMIT raises in every
        member."""
        self._waiting += 1
        try:
            await self._slot.acquire()
        finally:
            self._waiting -= 1
        outcome: T | None = None
        failure: BaseException | None = None
        group: _Group | None = None
        try:
            group = self._open
            if group is None:
                group = await self._open_group()
            group.members += 1
            self.members += 1
            session = AsyncSession(
                bind=group.connection,
                join_transaction_mode="create_savepoint",
                expire_on_commit=False,
                autoflush=False,
                info={SERIALIZED_WRITES: True, GROUP_MEMBER: True},
            )
            try:
                outcome = await work(session)
            except BaseException as raised:  # answered after the COMMIT, like the others
                failure = raised
                try:
                    await session.rollback()  # to this member's savepoint
                except BaseException:
                    group.broken = True  # its writes may be in the transaction: COMMIT none
                    raise
            finally:
                await close_member(session)
        finally:
            # Nobody queued behind (or the group is full): this member closes the group,
            # whatever happened to its own work, so the write lock is never left held.
            if group is not None and self._open is group and (self._waiting == 0 or group.members >= self._max_group):
                self._open = None
                await asyncio.shield(self._commit(group))
            self._slot.release()
        await asyncio.shield(group.durable)
        if failure is not None:
            raise failure
        return outcome, session  # type: ignore[return-value]

    async def _open_group(self) -> _Group:
        await self._write_lock.acquire()
        try:
            connection = await self._engine.connect()
            try:
                await connection.begin()  # BEGIN IMMEDIATE (db/engine.py)
            except BaseException:
                await connection.close()
                raise
        except BaseException:
            self._write_lock.release()
            raise
        group = _Group(connection)
        self._open = group
        return group

    async def _commit(self, group: _Group) -> None:
        try:
            if group.broken:
                await group.connection.rollback()
                raise RuntimeError("a member of this write group could not be rolled back alone")
            await group.connection.commit()
        except BaseException as failed:
            group.durable.set_exception(failed)
            group.durable.exception()  # retrieved: members re-raise it themselves
        else:
            self.commits += 1
            group.durable.set_result(None)
        finally:
            try:
                await group.connection.close()
            finally:
                self._write_lock.release()


# A member's session begins, releases and closes its savepoint many times a second. Through
# AsyncSession each of these is a greenlet started for the sync session and switched to and
# back, ~100 µs each on the bench machine (~330 µs a request with the savepoint's own
# statements, against ~8 µs for SAVEPOINT, a write and RELEASE on sqlite3). None of them
# waits for anything here: the group's transaction is open on the write engine's
# connection and the member runs alone in it (`_slot`), so SAVEPOINT and RELEASE run inline
# (no `await_only`, nothing to switch for). The sync session is called directly then;
# anything that may do I/O through SQLAlchemy (a flush of ORM objects, ROLLBACK TO) keeps
# the awaited way.


def _runs_inline(session: AsyncSession) -> bool:
    bind = session.bind
    if not session.sync_session.info.get(GROUP_MEMBER) or not isinstance(bind, AsyncConnection):
        return False
    return inline_sqlite(bind.sync_connection.connection.dbapi_connection) is not None  # type: ignore[union-attr]


def member_connection(session: AsyncSession) -> Connection | None:
    """A group member's connection with its savepoint begun, without a greenlet; None
    for any other session (the caller awaits `session.connection()` then)."""
    if not _runs_inline(session):
        return None
    return session.sync_session.connection()


async def release_member(session: AsyncSession) -> None:
    """`session.commit()` for a group member: RELEASE its savepoint."""
    sync = session.sync_session
    if _runs_inline(session) and not (sync.new or sync.dirty or sync.deleted):
        sync.commit()  # nothing to flush: only the RELEASE, inline
    else:
        await session.commit()


async def close_member(session: AsyncSession) -> None:
    sync = session.sync_session
    if sync.get_transaction() is None:
        sync.close()  # nothing open, nothing to roll back: no statement
    else:
        await session.close()
