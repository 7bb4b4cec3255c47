"""Group commit of the sandbox's webhooks: several due deliveries applied in one write
transaction, each exactly once, and a bad one never takes the others down."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import event, func, select

from passerelle.infra.outbox import Grouped, OutboxMessage, OutboxRunner
from passerelle.ledger.models import LedgerTransaction
from passerelle.payments.models import PaymentEvent
from passerelle.payments.tasks import deliver_sandbox_webhooks
from passerelle.state import AppState
from tests.payments.test_webhooks import _event, _order_status, _pending_payment


def _begins(state: AppState) -> list[str]:
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if statement.startswith("BEGIN"):
            seen.append(statement)

    event.listen(state.db.engine.sync_engine, "before_cursor_execute", record)
    return seen


async def _pending_payments_and_events(
    client: httpx.AsyncClient, state: AppState, count: int
) -> tuple[list[Any], list[Any]]:
    """`count` placed, unpaid checkouts and the sandbox's signed-to-be "paid" event of each."""
    setups = [await _pending_payment(client, state) for _ in range(count)]
    events = [
        _event(s["payment"]["id"], s["payment"]["amount"]["amount"], event_id=f"evt_{i}")  # type: ignore[index]
        for i, s in enumerate(setups)
    ]
    return setups, events


async def _ledger_count(state: AppState) -> int:
    async with state.db.read_sessions() as session:
        return int((await session.execute(select(func.count()).select_from(LedgerTransaction))).scalar_one())


@pytest.mark.both_backends
async def test_given_three_deliveries_and_a_replay_in_one_group_then_each_is_applied_once_in_one_transaction(
    client: httpx.AsyncClient, state: AppState
) -> None:
    setups, events = await _pending_payments_and_events(client, state, 3)
    begins = _begins(state)
    outcomes = await deliver_sandbox_webhooks(state, [{"event": e} for e in [*events, events[0]]])
    assert outcomes == [None, None, None, None]
    if state.db.is_sqlite:
        # The three settled in one write transaction (the server's group commit); the replay,
        # a second event for a payment, left to the general way, which finds it applied.
        assert begins == ["BEGIN IMMEDIATE", "BEGIN IMMEDIATE"]
    assert [await _order_status(client, s) for s in setups] == ["paid", "paid", "paid"]
    assert await _ledger_count(state) == 3
    async with state.db.read_sessions() as session:
        assert (await session.execute(select(func.count()).select_from(PaymentEvent))).scalar_one() == 3


async def test_given_a_tampered_amount_in_a_group_then_it_alone_is_refused_and_logged_and_the_others_are_paid(
    client: httpx.AsyncClient, state: AppState
) -> None:
    setups, events = await _pending_payments_and_events(client, state, 3)
    events[1]["data"]["amount"] = 1  # type: ignore[index]
    outcomes = await deliver_sandbox_webhooks(state, [{"event": e} for e in events])
    assert outcomes[0] is None and outcomes[2] is None
    assert isinstance(outcomes[1], RuntimeError) and "amount_mismatch" in str(outcomes[1])
    assert [await _order_status(client, s) for s in setups] == ["paid", "pending_payment", "paid"]
    assert await _ledger_count(state) == 2
    async with state.db.read_sessions() as session:
        outcomes_logged = sorted((await session.execute(select(PaymentEvent.outcome))).scalars())
    assert outcomes_logged == ["applied", "applied", "rejected:amount_mismatch"]


async def test_given_a_grouped_consumer_when_one_message_fails_then_only_it_is_retried(state: AppState) -> None:
    handled: list[list[int]] = []

    async def consume(_state: object, payloads: list[dict[str, int]]) -> list[BaseException | None]:
        handled.append([p["n"] for p in payloads])
        return [ValueError("bad") if p["n"] == 2 else None for p in payloads]

    async with state.db.writing() as session:
        session.add_all([OutboxMessage(topic="grouped.test", payload={"n": n}) for n in range(4)])
    runner = OutboxRunner(state, {"grouped.test": Grouped(consume, size=3)})
    assert await runner.run_once() == 4
    assert sorted(map(sorted, handled)) == [[0, 1, 2], [3]]
    async with state.db.read_sessions() as session:
        rows = (await session.execute(select(OutboxMessage.payload, OutboxMessage.processed_at))).all()
    assert sorted(p["n"] for p, done in rows if done is None) == [2]
