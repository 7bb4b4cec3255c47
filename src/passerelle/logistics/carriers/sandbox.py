"""The built-in sandbox carrier. It behaves like a real one: it issues tracking numbers and
sends tracking-event webhooks signed with HMAC-SHA256 (same scheme as the payment
webhooks), delivered over HTTP through the outbox (retried) at the time each event happens.

A webhook body is one event or a batch (`{"events": [...]}`): busy carriers batch.
Each event: {"id", "type", "tracking_number", "occurred_at" (ISO 8601), "location"}.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

import orjson

from passerelle.errors import DomainError
from passerelle.logistics.carriers.base import Booking, BookingRequest, CarrierEvent, CarrierService
from passerelle.logistics.models import EVENT_KINDS
from passerelle.payments.signing import SIGNATURE_HEADER, sign, verify

NAME = "sandbox"
WEBHOOK_PATH = f"/api/v1/logistics/carriers/{NAME}/events"
MAX_BATCH = 1000
SERVICES = {
    "standard": CarrierService("standard", "Sandbox Standard", 3, 6),
    "express": CarrierService("express", "Sandbox Express", 1, 3),
}
# The journey of a parcel: (event, hours after booking per transit day share).
_STEPS = ("picked_up", "in_transit", "customs", "out_for_delivery", "delivered")


def parse_time(value: object) -> datetime:
    if not isinstance(value, str):
        raise ValueError("occurred_at must be a string")
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("occurred_at needs a time zone")
    return moment


class SandboxCarrier:
    name = NAME
    services = SERVICES

    def __init__(self, *, webhook_secret: str) -> None:
        self.webhook_secret = webhook_secret

    def tracking_url(self, tracking_number: str) -> str:
        return f"https://sandbox-carrier.invalid/track/{tracking_number}"

    def book(self, request: BookingRequest) -> Booking:
        if request.service not in self.services:
            raise DomainError("unknown_service", f"Unknown carrier service {request.service}", field="service")
        tracking = f"SBX{secrets.randbelow(10**12):012d}{request.destination_country}"
        cross_border = request.origin_country != request.destination_country
        days = self.services[request.service].transit_days(cross_border=cross_border)
        return Booking(tracking, self.journey(tracking, start=request.booked_at, days=days, cross_border=cross_border))

    def journey(
        self, tracking: str, *, start: datetime, days: int, cross_border: bool
    ) -> list[tuple[datetime, dict[str, Any]]]:
        """The events of a normal delivery, spread over the service's transit time."""
        steps = [s for s in _STEPS if cross_border or s != "customs"]
        span = timedelta(days=days) - timedelta(hours=2)
        planned = []
        for index, kind in enumerate(steps):
            at = start + timedelta(hours=2) + span * (index / (len(steps) - 1))
            planned.append((at, self.event(tracking, kind, at)))
        return planned

    @staticmethod
    def event(tracking: str, kind: str, at: datetime, *, location: str = "") -> dict[str, Any]:
        return {
            "id": f"trk_{secrets.token_hex(10)}",
            "type": kind,
            "tracking_number": tracking,
            "occurred_at": at.isoformat(),
            "location": location,
        }

    def signed_delivery(self, body_obj: dict[str, Any], *, now: int) -> tuple[bytes, dict[str, str]]:
        body = orjson.dumps(body_obj)
        return body, {
            "content-type": "application/json",
            SIGNATURE_HEADER: sign(self.webhook_secret, timestamp=now, body=body),
        }

    def parse_events(self, *, headers: dict[str, str], body: bytes, now: int) -> tuple[list[CarrierEvent], bool]:
        verify(self.webhook_secret, header=headers.get(SIGNATURE_HEADER), body=body, now=now)
        try:
            raw = orjson.loads(body)
            batched = isinstance(raw, dict) and "events" in raw
            items = raw["events"] if batched else [raw]
            if not isinstance(items, list) or not 0 < len(items) <= MAX_BATCH:
                raise ValueError("batch size")
            events = [
                CarrierEvent(
                    event_id=str(item["id"])[:100],
                    tracking_number=str(item["tracking_number"])[:60],
                    kind=str(item["type"]),
                    occurred_at=parse_time(item["occurred_at"]),
                    location=str(item.get("location", ""))[:120],
                )
                for item in items
            ]
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            raise DomainError("malformed_webhook", "The webhook body is not a valid event", status=400) from None
        unknown = [e.kind for e in events if e.kind not in EVENT_KINDS]
        if unknown:
            raise DomainError("unknown_event", f"Unknown event type {unknown[0]}", status=400)
        return events, batched
