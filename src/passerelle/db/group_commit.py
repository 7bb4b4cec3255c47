"""Group commit for SQLite: concurrent write requests share one transaction and one COMMIT.

SQLite has one writer and `synchronous=FULL` makes every COMMIT an fsync. Requests that
queue for the write lock while a COMMIT runs are applied, one after the other, in the
next write transaction, each in its own SAVEPOINT (`MemberSession`: the member's
`session.commit()` releases its savepoint, `session.rollback()` rolls back to it, so one
failing member undoes only its own writes). The last member of a group, the one that
finds nobody waiting behind it, COMMITs; every member answers only after that COMMIT.
No timer: a group is whatever arrived while the previous COMMIT ran (at most `max_group`
members, so that the other writers queued on `Database.write_lock`, the outbox for one,
get their turn).

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

Background work of the server joins the groups too (`Database.write_with_requests`: the
outbox's leases, the paid webhooks' settlement): in a transaction of its own it held the
write lock through a BEGIN, a COMMIT and an fsync while the requests waited (+22 % paid
orders/s once it joined, session 13).
"""

from __future__ import annotations

import asyncio
import contextvars
import sqlite3
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy import event, exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from passerelle.db.sqlite_driver import in_transaction, inline_sqlite
from passerelle.db.write_lock import WriteLock

T = TypeVar("T")


class _Running:
    """A member's work while it runs (seen by the tasks it starts too, until it ends)."""

    __slots__ = ("running",)

    def __init__(self) -> None:
        self.running = True


# A member that asked to join a group itself would wait for the slot it holds, for ever.
_MEMBER: contextvars.ContextVar[_Running | None] = contextvars.ContextVar("group_commit_member", default=None)

# In a session's `info`: its writes are serialized with every other writer of this process
# (a group commit member, or a request holding `Database.write_lock` throughout), and
# readers see only what is committed, so nobody sees them before its COMMIT. A step that
# commits early only to be seen in the meantime (an Idempotency-Key in flight) need not.
SERIALIZED_WRITES = "serialized_writes"


class GroupTransactionLost(RuntimeError):
    """The group's transaction ended before its COMMIT: SQLite rolls a whole transaction back
    on some errors (disk full, I/O error), and a member may have caught that error and gone
    on. A savepoint opened then would start a new transaction, and the group would COMMIT the
    later members' writes while the earlier ones, already lost, were told they were kept."""


class _Group:
    __slots__ = ("connection", "members", "durable", "broken", "lost", "facts", "session")

    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection
        self.members = 0
        # One session serves the group's members in turn (`MemberSession.next_member`):
        # making one cost ~3 % of the server's main thread in bench checkout.
        self.session: MemberSession | None = None
        self.facts: dict[object, object] = {}  # MemberSession.group_facts
        self.broken = False  # a member's savepoint could not be rolled back
        self.lost = False  # its transaction ended before the COMMIT (GroupTransactionLost)
        self.durable: asyncio.Future[None] = asyncio.get_running_loop().create_future()


class GroupCommit:
    """Runs write work in shared SQLite transactions; see the module docstring."""

    def __init__(self, engine: AsyncEngine, write_lock: WriteLock, *, max_group: int = 64) -> None:
        self._engine = engine
        self._write_lock = write_lock
        self._max_group = max_group
        self._slot = asyncio.Lock()  # one member at a time inside the open transaction
        self._waiting = 0
        self._open: _Group | None = None
        # Figures for the benchmark and the tests.
        self.commits = 0
        self.members = 0

    async def run(self, work: Callable[[MemberSession], Awaitable[T]]) -> tuple[T, dict[object, object]]:
        """Run `work` on a session joined to the open group transaction (its own savepoint;
        `work` commits or rolls back that savepoint itself). Returns once the group's COMMIT
        is durable: `work`'s result and what it left in its session's `info`. The session
        itself serves the group's next member then: `work` must not keep it.
        `work`'s exception is raised after the COMMIT too; a failed COMMIT raises in every
        member. `work` must not join a group itself (it would wait for its own slot)."""
        member = _MEMBER.get()
        if member is not None and member.running:
            raise RuntimeError("a group commit member cannot join a group itself")
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
            session = group.session
            if session is None or group.broken:  # broken: the last member's may be left half-closed
                session = group.session = MemberSession(group.connection, group.facts)
            else:
                session.next_member()
            info = session.info
            running = _Running()
            inside = _MEMBER.set(running)
            try:
                outcome = await work(session)
            except BaseException as raised:  # answered after the COMMIT, like the others
                failure = raised
            finally:
                running.running = False
                _MEMBER.reset(inside)
                try:
                    await session.end()  # undoes what `work` did not commit
                except BaseException:
                    group.broken = True  # its writes may be in the transaction: COMMIT none
                    raise
                finally:
                    group.lost = group.lost or session.lost
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
        return outcome, info  # type: ignore[return-value]

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
            adapter = group.connection.sync_connection.connection.dbapi_connection  # type: ignore[union-attr]
            if group.lost or not in_transaction(adapter):
                await group.connection.rollback()  # what a member wrote alone since, if any
                raise GroupTransactionLost("the group's transaction ended before its COMMIT")
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


# A member's writes sit in a savepoint of the group's transaction that `MemberSession` holds
# on the sqlite3 connection itself. Through SQLAlchemy's session each request paid ~220 µs
# for it (the session transaction's begin, release and close, each a greenlet switch when
# awaited) against ~8 µs for SAVEPOINT, a write and RELEASE on sqlite3. None of these waits
# for anything: the group's transaction is open and the member runs alone in it (`_slot`).
_SAVEPOINT = "SAVEPOINT group_member"
_RELEASE = "RELEASE SAVEPOINT group_member"
_ROLLBACK_TO = "ROLLBACK TO SAVEPOINT group_member"


def _run_savepoint_statement(raw: sqlite3.Connection, sql: str) -> None:
    """`sql` on sqlite3, failing with SQLAlchemy's exception classes as `Prepared` does, so
    callers catching OperationalError or IntegrityError work whichever way a statement ran."""
    try:
        raw.execute(sql)
    except sqlite3.Error as error:
        raise exc.DBAPIError.instance(sql, None, error, sqlite3.Error) from error


class _MemberSyncSession(Session):
    member: MemberSession


@event.listens_for(_MemberSyncSession, "after_transaction_create")
def _member_savepoint_first(session: _MemberSyncSession, transaction: SessionTransaction) -> None:
    """The ORM's savepoint (`create_savepoint`) always opens inside the member's."""
    if transaction.parent is None:
        session.member.held_connection()


class MemberSession(AsyncSession):
    """A group member's session: `commit()` keeps its writes so far in the group's
    transaction, `rollback()` undoes them (and nothing of other members), and what is left
    uncommitted when the member ends is undone (`end`).

    Prepared statements (db/prepared.py) run on `raw_connection()`, which opens the
    member's savepoint on first use. The ORM, only when used, opens its own inside it;
    `commit()` and `rollback()` settle that one first, so the two always nest."""

    def __init__(self, connection: AsyncConnection, group_facts: dict[object, object] | None = None) -> None:
        super().__init__(
            bind=connection,
            sync_session_class=_MemberSyncSession,
            join_transaction_mode="create_savepoint",
            expire_on_commit=False,
            autoflush=False,
            info={SERIALIZED_WRITES: True},
        )
        self.sync_session.member = self  # type: ignore[attr-defined]
        self.adapter = connection.sync_connection.connection.dbapi_connection  # type: ignore[union-attr]
        self.write_dialect = connection.dialect
        self._savepoint_open = False
        self.lost = False  # the group's transaction was found gone (GroupTransactionLost)
        # What a member found in the group's transaction that no member can undo: written
        # before the group, or by a member whose savepoint was released. Never what this
        # member wrote itself (its savepoint may still be rolled back).
        self.group_facts: dict[object, object] = {} if group_facts is None else group_facts

    def raw_connection(self) -> sqlite3.Connection | None:
        """The group's sqlite3 connection with the member's savepoint open; None while an
        awaited statement holds it (Prepared then goes through SQLAlchemy)."""
        raw = inline_sqlite(self.adapter)
        if raw is None:
            return None
        if not self._savepoint_open:
            if not raw.in_transaction:  # a SAVEPOINT would open a transaction of its own
                self.lost = True
                raise GroupTransactionLost("the group's transaction ended before this member's savepoint")
            _run_savepoint_statement(raw, _SAVEPOINT)
            self._savepoint_open = True
        if self.sync_session.in_nested_transaction():
            # The ORM emits a `begin_nested()` SAVEPOINT only when it next needs the
            # connection: now (inline, nothing is in flight), so this statement lands inside.
            self.sync_session.connection()
        return raw

    def held_connection(self) -> sqlite3.Connection:
        """`raw_connection()` where nothing can be in flight (a bug otherwise)."""
        raw = self.raw_connection()
        if raw is None:
            raise RuntimeError("a group member's connection is busy with an awaited statement")
        return raw

    async def _settle_orm(self, *, keep: bool) -> None:
        sync = self.sync_session
        if not sync.in_transaction():
            return
        if keep and not (sync.new or sync.dirty or sync.deleted) and inline_sqlite(self.adapter) is not None:
            sync.commit()  # nothing to flush: only the RELEASE of its savepoint, inline
        elif keep:
            await super().commit()
        else:
            await super().rollback()

    def _close_savepoint(self, *, keep: bool) -> None:
        if self._savepoint_open:
            raw = self.held_connection()
            if not keep:
                _run_savepoint_statement(raw, _ROLLBACK_TO)
            _run_savepoint_statement(raw, _RELEASE)
            self._savepoint_open = False

    async def commit(self) -> None:
        await self._settle_orm(keep=True)
        self._close_savepoint(keep=True)

    async def rollback(self) -> None:
        await self._settle_orm(keep=False)
        self._close_savepoint(keep=False)

    def next_member(self) -> None:
        """Ready for the group's next member, once the previous one has ended (`end`): the
        ORM holds no transaction and no object then, and the savepoint is closed."""
        sync = self.sync_session
        if sync.in_transaction() or sync.identity_map or sync.new or self._savepoint_open:
            raise RuntimeError("a group member's session was handed on before its member ended")
        sync.info = {SERIALIZED_WRITES: True}  # the previous member's caller reads its own
        self.lost = False

    async def end(self) -> None:
        """Undo what was not committed and leave the group's transaction as before the member."""
        await self._settle_orm(keep=False)
        sync = self.sync_session
        if sync.identity_map or sync.new:
            sync.close()  # no transaction is left open (settled above): no statement, no greenlet
        self._close_savepoint(keep=False)
