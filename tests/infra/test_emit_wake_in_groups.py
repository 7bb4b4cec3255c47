"""`emit_wake` in group commits: once a member found a sweep's wake-up pending, the members
after it in the group skip the statement; what a member wrote and then rolled back is never
taken for pending."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from passerelle.db.base import utcnow
from passerelle.db.group_commit import MemberSession
from passerelle.infra import outbox
from passerelle.infra.outbox import OutboxMessage
from passerelle.state import AppState

TOPIC = "tests.expire_due"


pytestmark = pytest.mark.usefixtures("group_commit_on")  # tests/conftest.py


@pytest.fixture
def looked(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many rows each run of the wake's INSERT ... WHERE NOT EXISTS wrote."""
    written: list[int] = []
    real = outbox._INSERT_WAKE.rowcount

    async def counted(session: Any, params: Any) -> int:
        written.append(await real(session, params))
        return written[-1]

    monkeypatch.setattr(outbox._INSERT_WAKE, "rowcount", counted)
    return written


async def _in_one_group(state: AppState, members: list[Any]) -> None:
    """Run `members` as one group: the first holds it open until the others have queued."""
    committer = state.db.group_commit
    assert committer is not None
    gate = asyncio.Event()

    async def opener(session: MemberSession) -> None:
        await gate.wait()

    runs = [asyncio.create_task(committer.run(opener))]
    runs += [asyncio.create_task(committer.run(member)) for member in members]
    await asyncio.sleep(0.05)
    gate.set()
    await asyncio.gather(*runs, return_exceptions=True)


async def _pending(state: AppState) -> int:
    async with state.db.read_sessions() as session:
        query = select(func.count()).where(OutboxMessage.topic == TOPIC, OutboxMessage.processed_at.is_(None))
        return int((await session.execute(query)).scalar_one())


def _asking(at: datetime, *, times: int = 1, keep: bool = True) -> Callable[[MemberSession], Awaitable[None]]:
    """A member that asks `times` for the wake due `at`, then keeps or undoes its writes."""

    async def member(session: MemberSession) -> None:
        for _ in range(times):
            await outbox.emit_wake(session, topic=TOPIC, at=at)
        await (session.commit() if keep else session.rollback())

    return member


async def test_given_many_checkouts_in_a_group_then_the_wake_is_written_once_and_looked_for_twice(
    state: AppState, looked: list[int]
) -> None:
    await _in_one_group(state, [_asking(utcnow() + timedelta(minutes=15))] * 10)
    assert looked == [1, 0]  # the first wrote it, the second found it, the eight others knew
    assert await _pending(state) == 1


async def test_given_a_member_that_wrote_the_wake_and_rolled_back_then_the_next_writes_it_again(
    state: AppState, looked: list[int]
) -> None:
    at = utcnow() + timedelta(minutes=15)
    await _in_one_group(state, [_asking(at, keep=False), *[_asking(at)] * 3])
    assert looked == [1, 1, 0]
    assert await _pending(state) == 1


async def test_given_a_wake_due_within_a_minute_then_every_member_looks_for_it(
    state: AppState, looked: list[int]
) -> None:
    await _in_one_group(state, [_asking(utcnow() + timedelta(seconds=20))] * 4)
    assert looked == [1, 0, 0, 0]
    assert await _pending(state) == 1


async def test_given_a_member_that_asks_twice_then_rolls_back_then_the_next_member_writes_the_wake(
    state: AppState, looked: list[int]
) -> None:
    at = utcnow() + timedelta(minutes=15)
    # The first member's second ask finds its own write: not a fact of the group.
    await _in_one_group(state, [_asking(at, times=2, keep=False), *[_asking(at)] * 2])
    assert looked == [1, 0, 1, 0]
    assert await _pending(state) == 1
