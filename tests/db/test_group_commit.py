"""Group commit on SQLite (db/group_commit.py): requests that queue for the write lock share
one transaction and one COMMIT, each in its own savepoint, and answer after the COMMIT."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import event, func, insert, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.ext.asyncio import session as session_module

from passerelle.db.group_commit import GroupCommit, GroupTransactionLost, MemberSession
from passerelle.db.prepared import Prepared, bound
from passerelle.db.sqlite_driver import inline_sqlite
from passerelle.errors import Conflict
from passerelle.infra.outbox import OutboxMessage
from passerelle.state import AppState

pytestmark = pytest.mark.usefixtures("group_commit_on")  # tests/conftest.py


async def test_given_the_setting_then_the_database_groups_commits_on_sqlite_only(tmp_path: Any) -> None:
    from passerelle.config import Settings

    grouped = AppState.from_settings(Settings(data_dir=tmp_path))  # the default
    plain = AppState.from_settings(Settings(data_dir=tmp_path, group_commit=False))
    try:
        assert grouped.db.group_commit is not None and plain.db.group_commit is None
    finally:
        await grouped.db.dispose()
        await plain.db.dispose()


def _committer(state: AppState) -> GroupCommit:
    assert state.db.group_commit is not None
    return state.db.group_commit


async def _count(state: AppState, topic: str) -> int:
    async with state.db.read_sessions() as session:
        query = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.topic == topic)
        return int((await session.execute(query)).scalar_one())


def _writer(topic: str, *, fail: bool = False) -> Any:
    async def work(session: AsyncSession) -> str:
        await session.execute(insert(OutboxMessage.__table__), {"topic": topic, "payload": {}, "attempts": 0})
        if fail:
            raise Conflict("refused", "this member fails after writing")
        await session.commit()  # releases the member's savepoint
        return topic

    return work


def _count_commits(state: AppState) -> list[str]:
    seen: list[str] = []

    @event.listens_for(state.db.engine.sync_engine, "commit")
    def on_commit(_conn: Any) -> None:
        seen.append("COMMIT")

    return seen


async def test_given_concurrent_members_then_they_share_one_commit_and_each_answers_after_it(state: AppState) -> None:
    committer = _committer(state)
    commits = _count_commits(state)
    visible_at_answer: list[int] = []

    async def member(index: int) -> None:
        await committer.run(_writer(f"m{index}"))
        # What another connection sees the moment the member is answered: its write, durable.
        visible_at_answer.append(await _count(state, f"m{index}"))

    await asyncio.gather(*(member(i) for i in range(20)))

    assert visible_at_answer == [1] * 20
    assert 1 <= len(commits) < 20  # grouped: fewer COMMITs than members
    assert committer.members == 20 and committer.commits == len(commits)


async def test_given_a_failing_member_in_a_group_then_only_its_writes_are_undone(state: AppState) -> None:
    committer = _committer(state)
    outcomes = await asyncio.gather(
        *(committer.run(_writer(f"g{i}", fail=i % 3 == 1)) for i in range(9)), return_exceptions=True
    )

    failed = [i for i, outcome in enumerate(outcomes) if isinstance(outcome, BaseException)]
    assert failed == [1, 4, 7]
    assert all(isinstance(outcomes[i], Conflict) for i in failed)
    for i in range(9):
        assert await _count(state, f"g{i}") == (0 if i in failed else 1)
    assert committer.commits < committer.members  # the failures did not break the group


async def test_given_a_group_then_other_writers_wait_for_its_commit_and_then_run(state: AppState) -> None:
    committer = _committer(state)
    order: list[str] = []

    async def slow(session: AsyncSession) -> None:
        await session.execute(insert(OutboxMessage.__table__), {"topic": "slow", "payload": {}, "attempts": 0})
        await asyncio.sleep(0.05)  # the background writer queues on the write lock meanwhile
        await session.commit()
        order.append("group")

    async def background() -> None:
        await asyncio.sleep(0.01)
        async with state.db.writing() as session:
            order.append("background")
            session.add(OutboxMessage(topic="bg", payload={}))

    await asyncio.gather(committer.run(slow), background())
    assert order == ["group", "background"]
    assert await _count(state, "slow") == await _count(state, "bg") == 1


async def test_given_the_commit_fails_then_every_member_of_the_group_gets_the_error(
    state: AppState, monkeypatch: pytest.MonkeyPatch
) -> None:
    committer = _committer(state)
    failing: list[int] = []

    async def refuse(connection: AsyncConnection) -> None:
        failing.append(committer.members)
        raise OSError("disk full")

    monkeypatch.setattr(AsyncConnection, "commit", refuse)
    outcomes = await asyncio.gather(*(committer.run(_writer(f"f{i}")) for i in range(5)), return_exceptions=True)
    monkeypatch.undo()

    assert all(isinstance(outcome, OSError) for outcome in outcomes)
    assert failing and failing[-1] == 5  # every member went through a COMMIT that failed
    for i in range(5):
        assert await _count(state, f"f{i}") == 0
    # The write lock was given back: the next group commits.
    await committer.run(_writer("after"))
    assert await _count(state, "after") == 1


async def test_given_a_member_cancelled_mid_work_then_its_writes_are_undone_and_the_write_lock_is_given_back(
    state: AppState,
) -> None:
    committer = _committer(state)
    started = asyncio.Event()

    async def stuck(session: AsyncSession) -> None:
        await session.execute(insert(OutboxMessage.__table__), {"topic": "stuck", "payload": {}, "attempts": 0})
        started.set()
        await asyncio.sleep(3600)

    task = asyncio.create_task(committer.run(stuck))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    async with asyncio.timeout(5):  # the write lock is free again
        async with state.db.writing() as session:
            session.add(OutboxMessage(topic="next", payload={}))
    assert await _count(state, "stuck") == 0
    assert await _count(state, "next") == 1


@pytest.fixture
def greenlets(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The AsyncSession calls that started a greenlet for the sync session."""
    started: list[str] = []
    spawn = session_module.greenlet_spawn

    def counted(fn: Any, *args: Any, **kwargs: Any) -> Any:
        started.append(getattr(fn, "__name__", repr(fn)))
        return spawn(fn, *args, **kwargs)

    monkeypatch.setattr(session_module, "greenlet_spawn", counted)
    return started


_INSERT = Prepared(insert(OutboxMessage.__table__).values(bound("topic", "payload", "attempts")))


async def test_given_a_member_writing_through_prepared_statements_then_its_savepoint_needs_no_greenlet(
    state: AppState, greenlets: list[str]
) -> None:
    async def work(session: AsyncSession) -> None:
        await _INSERT.rowcount(session, {"topic": "direct", "payload": {}, "attempts": 0})
        await session.commit()
        await _INSERT.rowcount(session, {"topic": "direct", "payload": {}, "attempts": 0})  # a second savepoint
        await session.commit()

    await _committer(state).run(work)

    assert greenlets == []  # SAVEPOINT, RELEASE and the end went straight to sqlite3
    assert await _count(state, "direct") == 2


async def test_given_a_member_with_orm_objects_to_flush_then_its_release_flushes_them(
    state: AppState, greenlets: list[str]
) -> None:
    async def work(session: AsyncSession) -> None:
        await _INSERT.rowcount(session, {"topic": "mixed", "payload": {}, "attempts": 0})
        session.add(OutboxMessage(topic="mixed", payload={"orm": True}))
        await session.commit()

    async def failing(session: AsyncSession) -> None:
        session.add(OutboxMessage(topic="undone", payload={}))
        await _INSERT.rowcount(session, {"topic": "undone", "payload": {}, "attempts": 0})
        raise Conflict("refused", "fails with ORM objects pending")

    outcomes = await asyncio.gather(_committer(state).run(work), _committer(state).run(failing), return_exceptions=True)

    assert isinstance(outcomes[1], Conflict)
    assert "commit" in greenlets  # the flush took the awaited way
    assert await _count(state, "mixed") == 2 and await _count(state, "undone") == 0


async def test_given_orm_and_prepared_writes_in_a_member_then_commit_keeps_and_rollback_undoes_both_in_order(
    state: AppState,
) -> None:
    """The ORM's own savepoint opens inside the member's; commit and rollback settle it first."""

    async def work(session: AsyncSession) -> None:
        await session.execute(insert(OutboxMessage.__table__), {"topic": "kept", "payload": {}, "attempts": 0})
        await _INSERT.rowcount(session, {"topic": "kept", "payload": {}, "attempts": 0})
        await session.commit()
        await _INSERT.rowcount(session, {"topic": "undone", "payload": {}, "attempts": 0})
        await session.execute(insert(OutboxMessage.__table__), {"topic": "undone", "payload": {}, "attempts": 0})
        await session.rollback()
        await session.execute(insert(OutboxMessage.__table__), {"topic": "kept late", "payload": {}, "attempts": 0})
        await session.commit()
        await _INSERT.rowcount(session, {"topic": "never committed", "payload": {}, "attempts": 0})

    async def fails_after_a_commit(session: AsyncSession) -> None:
        await _INSERT.rowcount(session, {"topic": "committed first", "payload": {}, "attempts": 0})
        await session.commit()
        await session.execute(insert(OutboxMessage.__table__), {"topic": "then failed", "payload": {}, "attempts": 0})
        raise Conflict("refused", "fails after a commit")

    outcomes = await asyncio.gather(
        _committer(state).run(work), _committer(state).run(fails_after_a_commit), return_exceptions=True
    )

    assert isinstance(outcomes[1], Conflict)
    counts = {topic: await _count(state, topic) for topic in ("kept", "undone", "kept late", "never committed")}
    assert counts == {"kept": 2, "undone": 0, "kept late": 1, "never committed": 0}
    assert await _count(state, "committed first") == 1 and await _count(state, "then failed") == 0


async def test_given_a_nested_transaction_in_a_member_then_what_ran_directly_inside_it_is_undone_with_it(
    state: AppState,
) -> None:
    class Undo(Exception):
        pass

    async def work(session: AsyncSession) -> None:
        await _INSERT.rowcount(session, {"topic": "around", "payload": {}, "attempts": 0})
        with pytest.raises(Undo):
            async with session.begin_nested():
                await _INSERT.rowcount(session, {"topic": "nested", "payload": {}, "attempts": 0})
                raise Undo()
        await _INSERT.rowcount(session, {"topic": "around", "payload": {}, "attempts": 0})
        await session.commit()

    await _committer(state).run(work)
    assert await _count(state, "nested") == 0 and await _count(state, "around") == 2


async def test_given_a_session_outside_a_group_then_prepared_statements_join_its_transaction(state: AppState) -> None:
    async with state.db.writing() as session:
        assert not isinstance(session, MemberSession)
        await _INSERT.rowcount(session, {"topic": "alone", "payload": {}, "attempts": 0})
        await session.rollback()
        await _INSERT.rowcount(session, {"topic": "alone", "payload": {}, "attempts": 0})
    assert await _count(state, "alone") == 1


async def test_given_a_savepoint_statement_failing_on_sqlite3_then_the_member_gets_sqlalchemys_exception(
    state: AppState,
) -> None:
    """The savepoint's own statements fail with the classes Prepared raises (and the group is lost)."""
    seen: list[BaseException] = []

    async def work(session: AsyncSession) -> None:
        await _INSERT.rowcount(session, {"topic": "lost", "payload": {}, "attempts": 0})
        assert isinstance(session, MemberSession)
        session.held_connection().execute("RELEASE SAVEPOINT group_member")  # gone behind its back
        try:
            await session.commit()
        except OperationalError as failed:
            seen.append(failed)

    with pytest.raises(OperationalError, match="no such savepoint"):
        await _committer(state).run(work)  # undoing it at the end fails the same way

    assert len(seen) == 1 and "no such savepoint" in str(seen[0])
    assert await _count(state, "lost") == 0  # the group was rolled back whole


def _background(topic: str, *, fail: bool = False) -> Any:
    """Work for `Database.write_with_requests`: it writes, and leaves committing to it."""

    async def work(session: AsyncSession) -> str:
        await session.execute(insert(OutboxMessage.__table__), {"topic": topic, "payload": {}, "attempts": 0})
        if fail:
            raise Conflict("refused", "background work fails after writing")
        return topic

    return work


async def test_given_background_writes_beside_requests_then_they_join_the_requests_commit(state: AppState) -> None:
    """The outbox's leases and the server's webhook settlement ride the buying requests'
    shared transaction: no BEGIN, COMMIT and fsync of their own; durable when answered;
    undone alone when they fail."""
    committer = _committer(state)
    commits = _count_commits(state)

    async def request(index: int) -> None:
        await committer.run(_writer(f"request{index}"))

    async def background(index: int, *, fail: bool = False) -> str:
        topic = await state.db.write_with_requests(_background(f"background{index}", fail=fail))
        assert await _count(state, topic) == 1  # durable once answered
        return topic

    outcomes = await asyncio.gather(
        *(request(i) for i in range(8)),
        background(0),
        background(1, fail=True),
        background(2),
        return_exceptions=True,
    )

    assert isinstance(outcomes[9], Conflict)
    assert [await _count(state, f"background{i}") for i in range(3)] == [1, 0, 1]
    assert [await _count(state, f"request{i}") for i in range(8)] == [1] * 8
    assert committer.members == 11 and len(commits) == committer.commits < 11


async def test_given_no_group_commit_then_background_writes_run_in_a_transaction_of_their_own(
    state: AppState,
) -> None:
    state.db.group_commit = None
    assert await state.db.write_with_requests(_background("alone")) == "alone"
    with pytest.raises(Conflict):
        await state.db.write_with_requests(_background("undone", fail=True))
    assert (await _count(state, "alone"), await _count(state, "undone")) == (1, 0)


async def test_given_a_member_that_joins_a_group_itself_then_it_fails_at_once_rather_than_wait_for_ever(
    state: AppState,
) -> None:
    committer = _committer(state)
    started: list[asyncio.Task[Any]] = []

    async def nested(session: AsyncSession) -> None:
        # A task the member starts may join once the member is over (it holds no slot then).
        started.append(asyncio.get_running_loop().create_task(_after_member(committer)))
        await committer.run(_writer("inner"))

    with pytest.raises(RuntimeError, match="cannot join a group itself"):
        await asyncio.wait_for(committer.run(nested), timeout=5)
    assert await asyncio.wait_for(started[0], timeout=5) == "later"
    assert await _count(state, "later") == 1


async def _after_member(committer: GroupCommit) -> str:
    await asyncio.sleep(0.05)
    outcome, _ = await committer.run(_writer("later"))
    return str(outcome)


async def test_given_the_groups_transaction_lost_under_a_member_then_no_member_is_told_its_writes_were_kept(
    state: AppState,
) -> None:
    """SQLite rolls a whole transaction back on some errors (disk full, I/O error); a member
    that caught such an error and went on must not let the next one start a new transaction,
    nor the group report the first member's lost write as kept."""
    committer = _committer(state)
    first_wrote = asyncio.Event()

    async def first(session: AsyncSession) -> str:
        await _INSERT.rowcount(session, {"topic": "kept?", "payload": {}, "attempts": 0})
        await session.commit()
        first_wrote.set()
        await asyncio.sleep(0.05)  # the others queue behind: one group
        return "first"

    async def losing(session: AsyncSession) -> str:
        assert isinstance(session, MemberSession)
        raw = inline_sqlite(session.adapter)
        assert raw is not None and raw.in_transaction
        raw.execute("ROLLBACK")  # what SQLite does by itself on SQLITE_FULL; the member goes on
        return "losing"

    async def after(session: AsyncSession) -> str:
        await _INSERT.rowcount(session, {"topic": "after", "payload": {}, "attempts": 0})
        await session.commit()
        return "after"

    async def queued(work: Any) -> Any:
        await first_wrote.wait()
        return await committer.run(work)

    outcomes = await asyncio.gather(committer.run(first), queued(losing), queued(after), return_exceptions=True)

    assert all(isinstance(outcome, GroupTransactionLost) for outcome in outcomes), outcomes
    assert await _count(state, "kept?") == await _count(state, "after") == 0
    # The write lock was given back: the next group runs.
    await committer.run(_writer("next"))
    assert await _count(state, "next") == 1


async def test_given_members_of_one_group_then_they_share_a_session_and_each_gets_its_own_info_back(
    state: AppState,
) -> None:
    """The group's members are served by one session in turn; what one leaves in `info`
    (outbox topics, after-commit callbacks) comes back to it alone, and an ORM object one
    loaded is not in the next one's identity map."""
    committer = _committer(state)
    sessions: list[MemberSession] = []
    seen_by_next: list[bool] = []

    def member(index: int) -> Any:
        async def work(session: MemberSession) -> str:
            seen_by_next.append(bool(session.info.keys() - {"serialized_writes"}) or bool(session.identity_map))
            sessions.append(session)
            session.info["mine"] = index
            session.add(OutboxMessage(topic=f"shared{index}", payload={}))
            await session.flush()
            if index % 2:
                await session.commit()
            return f"shared{index}"

        return work

    answers = await asyncio.gather(*(committer.run(member(i)) for i in range(6)))

    assert [info["mine"] for _, info in answers] == list(range(6))
    assert len({id(session) for session in sessions}) < len(sessions)  # reused within a group
    assert seen_by_next == [False] * 6  # nothing of the member before
    assert [await _count(state, f"shared{i}") for i in range(6)] == [0, 1, 0, 1, 0, 1]


async def test_given_a_member_session_not_ended_then_it_is_not_handed_on(state: AppState) -> None:
    refused: list[str] = []

    async def work(session: MemberSession) -> None:
        await session.execute(select(func.count()).select_from(OutboxMessage))  # the ORM's transaction is open
        with pytest.raises(RuntimeError, match="before its member ended") as raised:
            session.next_member()
        refused.append(str(raised.value))

    await _committer(state).run(work)
    assert len(refused) == 1
