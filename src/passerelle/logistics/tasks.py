"""Outbox consumer of simulated carriers: deliver their signed tracking webhooks over HTTP."""

from __future__ import annotations

from typing import Any

from passerelle.logistics.carriers.registry import carrier
from passerelle.logistics.carriers.sandbox import SandboxCarrier
from passerelle.logistics.service import bulk


async def deliver_carrier_event(state: Any, payload: dict[str, Any]) -> None:
    sender = carrier(state.settings, str(payload["carrier"]))
    if not isinstance(sender, SandboxCarrier):
        return  # real carriers call us from their own systems
    body, headers = sender.signed_delivery(payload["event"], now=int(state.clock.now().timestamp()))
    async with state.webhook_client() as client:
        response = await client.post(f"/api/v1/logistics/carriers/{sender.name}/events", content=body, headers=headers)
    # Anything but a 2xx is retried by the outbox with backoff, like a real carrier would.
    if response.status_code >= 300:
        raise RuntimeError(f"carrier webhook answered {response.status_code}: {response.text[:200]}")


async def ship_batch(state: Any, payload: dict[str, Any]) -> None:
    """A chunk of a merchant's bulk shipping, in one transaction."""
    async with state.db.writing() as session:
        await bulk.ship_chunk(
            session,
            payload=payload,
            carrier=carrier(state.settings, str(payload["carrier"])),
            now=state.clock.now(),
            signing_secret=state.settings.resolved_secret_key,
        )
