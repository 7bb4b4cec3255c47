"""The interface every carrier implements, in carrier-neutral terms."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class CarrierService:
    code: str
    name: str
    transit_days_domestic: int
    transit_days_cross_border: int

    def transit_days(self, *, cross_border: bool) -> int:
        return self.transit_days_cross_border if cross_border else self.transit_days_domestic


@dataclass(frozen=True)
class CarrierEvent:
    """A tracking event, already authenticated."""

    event_id: str
    tracking_number: str
    kind: str  # picked_up | in_transit | customs | out_for_delivery | delivered | failed_attempt | returned
    occurred_at: datetime
    location: str = ""


@dataclass(frozen=True)
class BookingRequest:
    service: str
    origin_country: str
    destination_country: str
    weight_g: int
    parcels: int
    booked_at: datetime


@dataclass(frozen=True)
class Booking:
    tracking_number: str
    # Webhook deliveries the carrier will make later: (when, event payload). Only simulated
    # carriers fill this; a real carrier calls our endpoint from its own systems.
    scheduled: list[tuple[datetime, dict[str, Any]]] = field(default_factory=list)


class Carrier(Protocol):
    name: str
    services: dict[str, CarrierService]

    def book(self, request: BookingRequest) -> Booking:
        """Create the parcel at the carrier; returns its tracking number."""
        ...

    def parse_events(self, *, headers: dict[str, str], body: bytes, now: int) -> tuple[list[CarrierEvent], bool]:
        """Authenticate (signature, age) and decode one event or a batch (then True); raises
        DomainError when refused."""
        ...

    def tracking_url(self, tracking_number: str) -> str: ...
