"""Topics a buyer waits for (a payment settling their order) are leased and run before the
rest of the backlog (mails, commissions), however much older the rest is."""

from __future__ import annotations

from typing import Any

import pytest

from passerelle.infra import outbox
from passerelle.infra.outbox import Grouped, OutboxRunner
from passerelle.state import AppState
from passerelle.tasks import HANDLERS, WORKER_HANDLERS


async def _emit(state: AppState, topic: str, n: int) -> None:
    async with state.db.writing() as session:
        outbox.emit(session, topic=topic, payload={"n": n})


@pytest.mark.both_backends
async def test_given_a_backlog_of_mails_then_a_newer_payment_is_leased_and_run_first(state: AppState) -> None:
    ran: list[str] = []

    async def mail(_state: Any, payload: dict[str, Any]) -> None:
        ran.append(f"mail {payload['n']}")

    async def payments(_state: Any, payloads: list[dict[str, Any]]) -> list[BaseException | None]:
        ran.extend(f"payment {payload['n']}" for payload in payloads)
        return [None] * len(payloads)

    for n in range(3):
        await _emit(state, "first.mail", n)
    await _emit(state, "first.payment", 0)
    runner = OutboxRunner(
        state, {"first.mail": mail, "first.payment": Grouped(payments, first=True)}, batch=2, concurrency=1
    )

    assert await runner.run_once() == 2  # a batch of two: the payment, then the oldest mail
    assert ran == ["payment 0", "mail 0"]
    assert await runner.run_once() == 2
    assert ran[2:] == ["mail 1", "mail 2"]


def test_given_the_consumers_then_the_psps_webhooks_go_first_in_the_server_and_in_the_worker() -> None:
    for handlers in (HANDLERS, WORKER_HANDLERS):
        webhooks = handlers["payments.sandbox.deliver"]
        assert isinstance(webhooks, Grouped) and webhooks.first


async def test_given_a_runner_of_its_own_topics_then_only_their_commits_wake_it(state: AppState) -> None:
    """The server keeps the festival engine's topics (`passerelle worker` takes the rest):
    a buying request's commit, which queues the PSP's webhook, must not make it poll."""

    async def handle(_state: Any, _payload: dict[str, Any]) -> None:
        return None

    own = OutboxRunner(state, {"deals.confirm": handle}, own_topics_only=True)
    every = OutboxRunner(state, {"deals.confirm": handle})
    state.outbox_runner = own
    async with state.db.writing() as session:
        await outbox.emit_many(session, [outbox.Message("payments.sandbox.deliver", {})])
        topics = set(session.info["outbox_topics"])
    state.wake_worker(topics)
    assert not own._wake.is_set()
    state.outbox_runner = every
    state.wake_worker(topics)
    assert every._wake.is_set()

    state.outbox_runner = own
    state.wake_worker({"deals.confirm"})
    assert own._wake.is_set()
    own._wake.clear()
    state.wake_worker()  # topics not known (a handler that queued some itself): woken
    assert own._wake.is_set()
