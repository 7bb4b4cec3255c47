"""Outbox consumer of the sandbox PSP: deliver its signed webhooks.

With `PASSERELLE_PUBLIC_URL` set they go over HTTP to the public route, like a real PSP's.
Without it the PSP and passerelle share the process, and an HTTP request to ourselves
(httpx, the middleware stack, FastAPI) cost more CPU than applying the event: the signed
body is handed to the same service functions the route calls instead, so the signature,
the 5-minute window, the replay check and the amount check are exactly the route's.
Several due deliveries are applied in one transaction (group commit, see
`deliver_sandbox_webhooks`)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from passerelle.errors import DomainError
from passerelle.payments import service, settlement
from passerelle.payments.providers.base import WebhookEvent
from passerelle.payments.providers.sandbox import WEBHOOK_PATH, SandboxProvider
from passerelle.state import AppState

log = logging.getLogger(__name__)


def _sandbox(state: AppState) -> SandboxProvider:
    provider = state.payment_providers["sandbox"]
    assert isinstance(provider, SandboxProvider)
    return provider


async def deliver_sandbox_webhook(state: AppState, payload: dict[str, Any]) -> None:
    provider = _sandbox(state)
    body, headers = provider.signed_delivery(payload["event"], now=int(state.clock.now().timestamp()))
    if state.settings.public_url:
        async with state.webhook_client() as client:
            response = await client.post(WEBHOOK_PATH, content=body, headers=headers)
        # Anything but a 2xx is retried by the outbox with backoff, like a real PSP would.
        if response.status_code >= 300:
            raise RuntimeError(f"webhook answered {response.status_code}: {response.text[:200]}")
        return
    await receive_in_process(state, provider=provider, body=body, headers=headers)


async def deliver_sandbox_webhooks(state: AppState, payloads: list[dict[str, Any]]) -> list[BaseException | None]:
    """Several deliveries at once (`outbox.Grouped`): each is authenticated as the route does.
    The plain paid ones are settled together (payments/settlement.py): in `passerelle
    worker` reads first, in the server with group commit as a member of the requests'
    shared transaction. The others (all of them on PostgreSQL) are applied in one write
    transaction, so the group pays for one BEGIN, one COMMIT (one fsync) and one session
    instead of one each. If that fails, it is rolled back whole and every event is
    applied again alone: the failing one is refused and logged on its own and the others go
    through. Exactly once either way: an event is recorded by its id in the transaction
    that applies it."""
    if state.settings.public_url or len(payloads) == 1:
        return [await _outcome(deliver_sandbox_webhook(state, payload)) for payload in payloads]
    provider = _sandbox(state)
    now = state.clock.now()
    outcomes: list[BaseException | None] = [None] * len(payloads)
    events: dict[int, WebhookEvent] = {}
    for index, payload in enumerate(payloads):
        body, headers = provider.signed_delivery(payload["event"], now=int(now.timestamp()))
        try:
            events[index] = await service.authenticate_webhook(
                state.db.sessions, provider=provider, provider_name=provider.name, headers=headers, body=body, now=now
            )
        except DomainError as refused:
            outcomes[index] = RuntimeError(f"webhook refused: {refused.code}")
    if state.settle_reads_first or state.db.group_commit is not None:
        settled = await _settle_paid(state, provider, events, now)
        events = {index: event for index, event in events.items() if index not in settled}
    if not events:
        return outcomes
    try:
        async with state.db.writing() as session:
            for event in events.values():
                await service.apply_webhook(session, provider=provider, event=event, now=now)
    except Exception:  # noqa: BLE001 - nothing of the group was applied: one by one instead
        for index, event in events.items():
            outcomes[index] = await _outcome(_apply_alone(state, provider=provider, event=event, now=now))
        return outcomes
    if session.info.pop("outbox_emitted", False):
        state.wake_worker()
    return outcomes


async def _settle_paid(
    state: AppState, provider: SandboxProvider, events: dict[int, WebhookEvent], now: datetime
) -> set[int]:
    """The indexes of the events `settlement.settle_paid` settled; none when it gave up
    (nothing written: they are applied the general way)."""
    try:
        settled = await settlement.settle_paid(
            state, provider=provider, events=events, now=now, read_first=state.settle_reads_first
        )
    except (settlement.Changed, DomainError, IntegrityError):
        return set()  # a guard failed: what was read changed meanwhile
    except Exception:  # noqa: BLE001 - the general way applies them, and says why if it fails too
        log.warning("settling a group of paid webhooks failed; applying them one by one", exc_info=True)
        return set()
    if settled.emitted:
        state.wake_worker()
    return set(settled.outcomes)


async def _outcome(work: Any) -> BaseException | None:
    try:
        await work
    except Exception as error:  # noqa: BLE001 - answered per message, retried by the outbox
        return error
    return None


async def receive_in_process(
    state: AppState, *, provider: SandboxProvider, body: bytes, headers: dict[str, str]
) -> dict[str, str]:
    """What the public route does with a delivery, minus HTTP: authenticate, then apply in one
    write transaction. A refusal raises (the outbox retries, as after a 4xx)."""
    now = state.clock.now()
    try:
        event = await service.authenticate_webhook(
            state.db.sessions, provider=provider, provider_name=provider.name, headers=headers, body=body, now=now
        )
    except DomainError as refused:
        raise RuntimeError(f"webhook refused: {refused.code}") from refused
    return await _apply_alone(state, provider=provider, event=event, now=now)


async def _apply_alone(
    state: AppState, *, provider: SandboxProvider, event: WebhookEvent, now: datetime
) -> dict[str, str]:
    try:
        async with state.db.writing() as session:
            answer = await service.apply_or_reject(
                session, state.db.sessions, provider=provider, provider_name=provider.name, event=event, now=now
            )
    except DomainError as refused:
        raise RuntimeError(f"webhook refused: {refused.code}") from refused
    if session.info.pop("outbox_emitted", False):
        state.wake_worker()  # the consumers of orders.paid, at once (as the route's unit of work does)
    return answer
