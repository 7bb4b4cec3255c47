"""Estimated delivery: the service's transit days for the route until the route has enough
delivered parcels, then the median of their transit times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from passerelle.bench.tracking import prepare_shipments
from passerelle.logistics.carriers.sandbox import SERVICES
from passerelle.logistics.models import Shipment
from passerelle.logistics.service import eta
from passerelle.state import AppState


async def test_given_past_deliveries_on_the_route_then_the_estimate_follows_their_median(state: AppState) -> None:
    numbers = await prepare_shipments(state.settings, 6, "E")  # sandbox standard, FR -> DE
    standard = SERVICES["standard"]
    shipped = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    async with state.db.sessions() as session:
        before = await eta.estimate(
            session, carrier="sandbox", service=standard, origin="FR", destination="DE", shipped_at=shipped
        )
        assert before == (shipped + timedelta(days=standard.transit_days_cross_border)).date()
        domestic = await eta.estimate(
            session, carrier="sandbox", service=standard, origin="FR", destination="FR", shipped_at=shipped
        )
        assert domestic == (shipped + timedelta(days=standard.transit_days_domestic)).date()
        for hours, number in zip((30, 40, 44, 47, 200), numbers, strict=False):
            await session.execute(
                update(Shipment)
                .where(Shipment.tracking_number == number)
                .values(shipped_at=shipped, delivered_at=shipped + timedelta(hours=hours))
            )
        await session.commit()
        after = await eta.estimate(
            session, carrier="sandbox", service=standard, origin="FR", destination="DE", shipped_at=shipped
        )
    assert after == (shipped + timedelta(days=2)).date()  # median 44 h -> 2 days
