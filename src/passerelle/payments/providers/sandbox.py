"""The built-in sandbox PSP. It behaves like a real one: a hosted card page, test card
numbers, and asynchronous webhooks signed with HMAC-SHA256 and delivered over HTTP
(through the outbox, with retries) to passerelle's webhook endpoint.

Test cards: 4242 4242 4242 4242 (and any other valid number) succeed;
4000 0000 0000 0002 is declined; 4000 0000 0000 9995 is declined for insufficient funds.
"""

from __future__ import annotations

import secrets
from typing import Any

import orjson

from passerelle.errors import DomainError, Invalid
from passerelle.money import Money
from passerelle.payments.providers.base import WebhookEvent
from passerelle.payments.signing import SIGNATURE_HEADER, sign, verify

DECLINES = {"4000000000000002": "card_declined", "4000000000009995": "insufficient_funds"}
WEBHOOK_PATH = "/api/v1/payments/webhooks/sandbox"


def luhn_ok(number: str) -> bool:
    digits = [int(d) for d in number]
    checksum = 0
    for index, digit in enumerate(reversed(digits)):
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        checksum += digit
    return checksum % 10 == 0


def normalise_card(card_number: str) -> str:
    number = card_number.replace(" ", "").replace("-", "")
    if not number.isdigit() or not 12 <= len(number) <= 19 or not luhn_ok(number):
        raise Invalid("invalid_card_number", "This card number is not valid", field="card_number")
    return number


class SandboxProvider:
    name = "sandbox"

    def __init__(self, *, webhook_secret: str) -> None:
        self.webhook_secret = webhook_secret

    def pay_url(self, *, payment_public_id: str) -> str:
        return f"/pay/sandbox/{payment_public_id}"

    def charge(self, *, payment_public_id: str, amount: Money, card_number: str) -> dict[str, Any]:
        """Decide the card's fate and return the webhook event the PSP will send."""
        number = normalise_card(card_number)
        decline = DECLINES.get(number)
        event: dict[str, Any] = {
            "id": f"evt_{secrets.token_hex(12)}",
            "type": "payment.failed" if decline else "payment.succeeded",
            "data": {
                "payment_id": payment_public_id,
                "amount": amount.amount,
                "currency": amount.currency,
                "provider_ref": f"ch_{secrets.token_hex(10)}",
                "card_last4": number[-4:],
                "failure_code": decline or "",
            },
        }
        return event

    def signed_delivery(self, event: dict[str, Any], *, now: int) -> tuple[bytes, dict[str, str]]:
        body = orjson.dumps(event)
        headers = {
            "content-type": "application/json",
            SIGNATURE_HEADER: sign(self.webhook_secret, timestamp=now, body=body),
        }
        return body, headers

    def parse_webhook(self, *, headers: dict[str, str], body: bytes, now: int) -> WebhookEvent:
        verify(self.webhook_secret, header=headers.get(SIGNATURE_HEADER), body=body, now=now)
        try:
            raw = orjson.loads(body)
            data = raw["data"]
            return WebhookEvent(
                event_id=str(raw["id"]),
                kind=str(raw["type"]),
                payment_public_id=str(data["payment_id"]),
                amount=int(data["amount"]),
                currency=str(data["currency"]),
                provider_ref=str(data.get("provider_ref", "")),
                raw=raw,
            )
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            raise DomainError("malformed_webhook", "The webhook body is not a valid event", status=400) from None

    async def refund(self, *, provider_ref: str, amount: Money, reference: str) -> str:
        if amount.amount <= 0:
            raise Invalid("invalid_amount", "Refund amounts must be positive", field="amount")
        return f"re_{secrets.token_hex(10)}"
