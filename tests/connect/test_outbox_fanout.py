"""A topic with several consumers: each gets its own copy, retried on its own."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from passerelle.infra import outbox
from passerelle.infra.clock import FrozenClock
from passerelle.infra.outbox import OutboxRunner
from passerelle.state import AppState


async def test_given_two_consumers_when_the_second_fails_once_then_each_runs_exactly_once_to_success(
    state: AppState,
) -> None:
    calls: list[str] = []
    failures = {"left": 1}

    async def mail(_state: Any, payload: dict[str, Any]) -> None:
        calls.append(f"mail:{payload['order_id']}")

    async def commission(_state: Any, payload: dict[str, Any]) -> None:
        if failures["left"]:
            failures["left"] -= 1
            raise RuntimeError("database busy")
        calls.append(f"commission:{payload['order_id']}")

    runner = OutboxRunner(state, {"orders.paid": (mail, commission), "other": mail})
    async with state.db.writing() as session:
        outbox.emit(session, topic="orders.paid", payload={"order_id": 7})
    for _ in range(3):
        await runner.run_once()
    assert calls == ["mail:7"]  # the failed copy waits for its retry; the mail is not sent again

    async with state.db.writing() as session:  # make the retry due now
        await session.execute(update(outbox.OutboxMessage).values(available_at=outbox.utcnow()))
    for _ in range(3):
        await runner.run_once()
    assert calls == ["mail:7", "commission:7"]


async def test_given_a_runner_that_dies_after_taking_a_message_then_the_message_comes_back_after_its_lease(
    state: AppState,
) -> None:
    calls: list[int] = []

    async def mail(_state: Any, payload: dict[str, Any]) -> None:
        calls.append(payload["order_id"])

    async with state.db.writing() as session:
        outbox.emit(session, topic="orders.shipped", payload={"order_id": 9})
    clock = FrozenClock(outbox.utcnow() + timedelta(minutes=1))
    state.clock = clock
    dying = OutboxRunner(state, {"orders.shipped": mail})
    async with state.db.read_sessions() as session:
        due = list(
            (
                await session.execute(
                    select(
                        outbox.OutboxMessage.id,
                        outbox.OutboxMessage.topic,
                        outbox.OutboxMessage.payload,
                        outbox.OutboxMessage.available_at,
                    )
                )
            ).all()
        )
    assert len(await dying._claim(due, clock.now())) == 1  # taken... and the process is killed here

    survivor = OutboxRunner(state, {"orders.shipped": mail})
    assert await survivor.run_once() == 0  # leased: nobody else runs it meanwhile
    clock.advance(seconds=outbox.LEASE.total_seconds() + 1)
    assert await survivor.run_once() == 1
    assert calls == [9]
    assert await survivor.run_once() == 0  # done for good once handled
    async with state.db.read_sessions() as session:
        message = (await session.execute(select(outbox.OutboxMessage))).scalar_one()
    assert message.processed_at is not None and message.attempts == 2


async def test_given_runners_split_by_topic_then_each_takes_only_its_own_and_none_is_dropped(
    state: AppState,
) -> None:
    """`passerelle worker` beside the server: each runner leaves the other's topics alone
    (a runner that took them would log them as unhandled and mark them done)."""
    calls: list[str] = []

    async def mail(_state: Any, payload: dict[str, Any]) -> None:
        calls.append(f"mail:{payload['n']}")

    async def commission(_state: Any, payload: dict[str, Any]) -> None:
        calls.append(f"commission:{payload['n']}")

    async def engine(_state: Any, payload: dict[str, Any]) -> None:
        calls.append(f"engine:{payload['n']}")

    worker = OutboxRunner(state, {"orders.paid": (mail, commission)}, own_topics_only=True)
    server = OutboxRunner(state, {"deals.confirm": engine}, own_topics_only=True)
    async with state.db.writing() as session:
        outbox.emit(session, topic="orders.paid", payload={"n": 1})
        outbox.emit(session, topic="deals.confirm", payload={"n": 2})
    for _ in range(3):
        await worker.run_once()
    assert sorted(calls) == ["commission:1", "mail:1"]
    async with state.db.read_sessions() as session:
        waiting = (
            await session.execute(select(outbox.OutboxMessage.topic).where(outbox.OutboxMessage.processed_at.is_(None)))
        ).scalars()
        assert list(waiting) == ["deals.confirm"]
    assert await server.run_once() == 1
    assert calls[-1] == "engine:2"
    assert await worker.run_once() == 0 and await server.run_once() == 0
