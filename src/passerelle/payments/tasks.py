"""Outbox consumer of the sandbox PSP: deliver its signed webhooks over HTTP."""

from __future__ import annotations

from typing import Any

from passerelle.payments.providers.sandbox import WEBHOOK_PATH, SandboxProvider


async def deliver_sandbox_webhook(state: Any, payload: dict[str, Any]) -> None:
    provider: SandboxProvider = state.payment_providers["sandbox"]
    body, headers = provider.signed_delivery(payload["event"], now=int(state.clock.now().timestamp()))
    async with state.webhook_client() as client:
        response = await client.post(WEBHOOK_PATH, content=body, headers=headers)
    # Anything but a 2xx is retried by the outbox with backoff, like a real PSP would.
    if response.status_code >= 300:
        raise RuntimeError(f"webhook answered {response.status_code}: {response.text[:200]}")
