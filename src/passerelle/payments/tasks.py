"""Outbox consumer of the sandbox PSP: deliver its signed webhooks.

With `PASSERELLE_PUBLIC_URL` set they go over HTTP to the public route, like a real PSP's.
Without it the PSP and passerelle share the process, and an HTTP request to ourselves
(httpx, the middleware stack, FastAPI) cost more CPU than applying the event: the signed
body is handed to the same service functions the route calls instead, so the signature,
the 5-minute window, the replay check and the amount check are exactly the route's."""

from __future__ import annotations

from typing import Any

from passerelle.errors import DomainError
from passerelle.payments import service
from passerelle.payments.providers.sandbox import WEBHOOK_PATH, SandboxProvider
from passerelle.state import AppState


async def deliver_sandbox_webhook(state: AppState, payload: dict[str, Any]) -> None:
    provider = state.payment_providers["sandbox"]
    assert isinstance(provider, SandboxProvider)
    body, headers = provider.signed_delivery(payload["event"], now=int(state.clock.now().timestamp()))
    if state.settings.public_url:
        async with state.webhook_client() as client:
            response = await client.post(WEBHOOK_PATH, content=body, headers=headers)
        # Anything but a 2xx is retried by the outbox with backoff, like a real PSP would.
        if response.status_code >= 300:
            raise RuntimeError(f"webhook answered {response.status_code}: {response.text[:200]}")
        return
    await receive_in_process(state, provider=provider, body=body, headers=headers)


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
        async with state.db.writing() as session:
            answer = await service.apply_or_reject(
                session, state.db.sessions, provider=provider, provider_name=provider.name, event=event, now=now
            )
    except DomainError as refused:
        raise RuntimeError(f"webhook refused: {refused.code}") from refused
    if session.info.pop("outbox_emitted", False):
        state.wake_worker()  # the consumers of orders.paid, at once (as the route's unit of work does)
    return answer
