"""A topic with several consumers: each gets its own copy, retried on its own."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from passerelle.infra import outbox
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
