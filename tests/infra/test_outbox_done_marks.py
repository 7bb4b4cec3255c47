"""The outbox runner's loop marks a batch done in the transaction that leases the next one."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, select

from passerelle.infra import outbox
from passerelle.infra.outbox import OutboxMessage, OutboxRunner
from passerelle.state import AppState


async def _emit(state: AppState, n: int) -> None:
    async with state.db.writing() as session:
        outbox.emit(session, topic="done.test", payload={"n": n})


async def _processed(state: AppState) -> dict[int, bool]:
    async with state.db.read_sessions() as session:
        rows = (await session.execute(select(OutboxMessage.payload, OutboxMessage.processed_at))).all()
    return {payload["n"]: done is not None for payload, done in rows}


async def test_given_a_busy_runner_then_each_batch_is_marked_done_with_the_next_lease_and_the_rest_when_it_stops(
    state: AppState,
) -> None:
    handled: list[int] = []

    async def consume(_state: Any, payload: dict[str, Any]) -> None:
        handled.append(payload["n"])

    begins: list[str] = []
    event.listen(
        state.db.engine.sync_engine,
        "before_cursor_execute",
        lambda _c, _cur, statement, *_: begins.append(statement) if statement.startswith("BEGIN") else None,
    )
    runner = OutboxRunner(state, {"done.test": consume}, mark_done_with_next_lease=True)
    await _emit(state, 1)
    begins.clear()
    assert await runner.run_once(mark_done_now=False) == 1
    assert len(begins) == 1  # the lease only
    assert await _processed(state) == {1: False}  # handled, still leased: nobody else takes it
    assert await runner.run_once(mark_done_now=False) == 0 and handled == [1]

    await _emit(state, 2)
    begins.clear()
    assert await runner.run_once(mark_done_now=False) == 1
    assert len(begins) == 1  # the first batch marked done in the transaction leasing the second
    assert await _processed(state) == {1: True, 2: False}

    runner.start()  # the loop finds nothing due, marks what it holds, and waits
    await runner.stop()
    assert await _processed(state) == {1: True, 2: True}
    assert handled == [1, 2]

    await _emit(state, 3)
    assert await runner.run_once() == 1  # called alone, it marks its batch at once
    assert await _processed(state) == {1: True, 2: True, 3: True}
