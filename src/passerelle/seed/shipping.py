"""Demo parcels: an order shipped with the sandbox carrier and its past tracking events
applied through the tracking service, as a real carrier's would be (the order turns
delivered when the parcel is)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.accounts.models import User
from passerelle.logistics.carriers.base import CarrierEvent
from passerelle.logistics.carriers.registry import carrier
from passerelle.logistics.models import Shipment
from passerelle.logistics.service import shipments, tracking
from passerelle.state import AppState

# A parcel's life after its label, as shares of the way to its delivery: picked up,
# in transit, out for delivery, delivered.
STEPS = [("picked_up", 0.05), ("in_transit", 0.35), ("out_for_delivery", 0.85), ("delivered", 1.0)]
ON_THE_WAY = timedelta(hours=47)  # when the parcel has not arrived yet, it is this far along
SMALL_BOX = shipments.ParcelSpec(700, 300, 220, 90)


async def ship(
    session: AsyncSession,
    state: AppState,
    *,
    owner: User,
    order_id: int,
    at: datetime,
    delivered_at: datetime | None,
    parcel: shipments.ParcelSpec = SMALL_BOX,
) -> Shipment:
    """Ship `order_id` as its owner at `at`; the parcel is delivered at `delivered_at`
    (the order turns delivered then), or is still in transit when that is None."""
    sandbox = carrier(state.settings, "sandbox")
    secret = state.settings.resolved_secret_key
    shipment = await shipments.create_shipment(
        session,
        actor=owner,
        order_id=order_id,
        carrier=sandbox,
        service="standard",
        parcels=[parcel],
        now=at,
        signing_secret=secret,
        simulate_carrier=False,
    )
    way = (delivered_at or at + ON_THE_WAY) - at
    steps = STEPS if delivered_at is not None else STEPS[:2]
    events = [
        CarrierEvent(f"trk_seed_{shipment.id}_{kind}", shipment.tracking_number, kind, at + way * share, "Lyon")
        for kind, share in steps
    ]
    await tracking.apply_events(
        session, carrier=sandbox.name, events=events, now=events[-1].occurred_at, signing_secret=secret
    )
    return shipment
