"""The interface every payment provider implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from passerelle.money import Money


@dataclass(frozen=True)
class WebhookEvent:
    """A provider event, already authenticated, in provider-neutral terms."""

    event_id: str
    kind: str  # payment.succeeded | payment.failed
    payment_public_id: str
    amount: int
    currency: str
    provider_ref: str
    raw: dict[str, Any]


class PaymentProvider(Protocol):
    name: str

    def pay_url(self, *, payment_public_id: str) -> str:
        """Where the buyer is sent to pay (a hosted page)."""
        ...

    def parse_webhook(self, *, headers: dict[str, str], body: bytes, now: int) -> WebhookEvent:
        """Authenticate (signature, age) and decode a webhook; raises DomainError when refused."""
        ...

    async def refund(self, *, provider_ref: str, amount: Money, reference: str) -> str:
        """Refund part or all of a captured payment; returns the provider's refund id."""
        ...
