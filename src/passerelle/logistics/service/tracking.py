"""Carrier events applied to shipments, in batches.

Each event is stored once (unique carrier + event id, inserted with ON CONFLICT DO
NOTHING, so a replay or a duplicate inside a batch is harmless). The shipment's status is
the latest event by the carrier's `occurred_at`, set by a conditional UPDATE, so a late
event never overwrites a newer one whatever the arrival order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.infra import outbox
from passerelle.logistics.carriers.base import CarrierEvent
from passerelle.logistics.models import Direction, ReturnRequest, ReturnStatus, Shipment, TrackingEvent, TrackingStatus
from passerelle.orders.models import OrderStatus
from passerelle.orders.service import lifecycle
from passerelle.traceability import service as traceability


@dataclass(frozen=True)
class _Target:
    id: int
    order_id: int
    direction: Direction
    return_id: int | None


def _insert(session: AsyncSession) -> Any:
    """INSERT .. ON CONFLICT DO NOTHING RETURNING event_id, one statement shape whatever the
    batch size (run as executemany), so it is compiled once per process."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(TrackingEvent)
        .on_conflict_do_nothing(index_elements=["carrier", "event_id"])
        .returning(TrackingEvent.event_id)
    )


_STATUS = (
    update(Shipment)
    .where(
        Shipment.id == bindparam("sid"),
        or_(Shipment.status_at.is_(None), Shipment.status_at < bindparam("at")),
    )
    .values(status=bindparam("kind"), status_at=bindparam("at"))
)


async def apply_events(
    session: AsyncSession, *, carrier: str, events: Sequence[CarrierEvent], now: datetime, signing_secret: str
) -> list[str]:
    """Apply authenticated events; one outcome per event: applied | duplicate | unknown_parcel."""
    numbers = sorted({e.tracking_number for e in events})
    found = await session.execute(
        select(Shipment.tracking_number, Shipment.id, Shipment.order_id, Shipment.direction, Shipment.return_id).where(
            Shipment.carrier == carrier, Shipment.tracking_number.in_(numbers)
        )
    )
    targets = {number: _Target(sid, oid, direction, rid) for number, sid, oid, direction, rid in found.all()}
    rows, seen = [], set()
    for event in events:
        if event.tracking_number in targets and event.event_id not in seen:
            seen.add(event.event_id)
            rows.append(
                {
                    "carrier": carrier,
                    "event_id": event.event_id,
                    "shipment_id": targets[event.tracking_number].id,
                    "kind": event.kind,
                    "occurred_at": event.occurred_at,
                    "location": event.location,
                    "received_at": now,
                }
            )
    applied: set[str] = set()
    if rows:
        connection = await session.connection()  # Core executemany: no ORM bookkeeping per row
        applied = set((await connection.execute(_insert(session), rows)).scalars())
    fresh = [e for e in events if e.event_id in applied]
    await _move_statuses(session, fresh, targets, signing_secret=signing_secret)
    outcomes, answered = [], set()
    for event in events:
        if event.tracking_number not in targets:
            outcomes.append("unknown_parcel")
        elif event.event_id in applied and event.event_id not in answered:
            answered.add(event.event_id)
            outcomes.append("applied")
        else:
            outcomes.append("duplicate")
    return outcomes


async def _move_statuses(
    session: AsyncSession, fresh: list[CarrierEvent], targets: dict[str, _Target], *, signing_secret: str
) -> None:
    latest: dict[str, CarrierEvent] = {}
    for event in fresh:
        held = latest.get(event.tracking_number)
        if held is None or event.occurred_at > held.occurred_at:
            latest[event.tracking_number] = event
    if latest:
        connection = await session.connection()
        await connection.execute(
            _STATUS,
            [
                {"sid": targets[number].id, "kind": TrackingStatus(event.kind), "at": event.occurred_at}
                for number, event in sorted(latest.items())
            ],
        )
    delivered: dict[int, tuple[_Target, datetime]] = {}
    for event in fresh:
        target = targets[event.tracking_number]
        if target.direction == Direction.back and target.return_id is not None:
            await _return_progress(session, target.return_id, event)
        elif event.kind == TrackingStatus.delivered:
            earlier = delivered.get(target.id)
            delivered[target.id] = (target, min(event.occurred_at, earlier[1]) if earlier else event.occurred_at)
    arrived: dict[int, datetime] = {}
    for target, at in await _first_deliveries(session, delivered):
        arrived[target.order_id] = max(at, arrived.get(target.order_id, at))
    for order_id, at in sorted(arrived.items()):
        await _order_delivered(session, order_id, at, signing_secret=signing_secret)


_DELIVERED_AT = update(Shipment).where(Shipment.id == bindparam("sid")).values(delivered_at=bindparam("at"))


async def _first_deliveries(
    session: AsyncSession, delivered: dict[int, tuple[_Target, datetime]]
) -> list[tuple[_Target, datetime]]:
    """The shipments delivered for the first time, stamped. The rows are locked (FOR UPDATE on
    PostgreSQL; SQLite already holds the write lock after the insert), so a parcel's first
    delivery is seen by one transaction only."""
    if not delivered:
        return []
    waiting = await session.execute(
        select(Shipment.id).where(Shipment.id.in_(sorted(delivered)), Shipment.delivered_at.is_(None)).with_for_update()
    )
    first = [delivered[sid] for sid in sorted(waiting.scalars())]
    if first:
        connection = await session.connection()
        await connection.execute(_DELIVERED_AT, [{"sid": target.id, "at": at} for target, at in first])
    return first


async def _order_delivered(session: AsyncSession, order_id: int, at: datetime, *, signing_secret: str) -> None:
    """The order is delivered when its last parcel is (once: the status move is conditional)."""
    pending = (
        await session.execute(
            select(func.count()).where(
                Shipment.order_id == order_id,
                Shipment.direction == Direction.outbound,
                Shipment.delivered_at.is_(None),
            )
        )
    ).scalar_one()
    if pending:
        return
    moved = await lifecycle.set_status(
        session,
        order_id=order_id,
        from_statuses=frozenset({OrderStatus.shipped}),
        to_status=OrderStatus.delivered,
        actor_id=None,
        actor_kind="system",
        now=at,
        note="delivered (carrier)",
    )
    if moved is None:
        return
    outbox.emit(session, topic="orders.status_changed", payload={"order_id": order_id, "status": "delivered"})
    await traceability.record_for_order(
        session, order_id=order_id, kind="delivered", at=at, data={}, secret=signing_secret
    )


async def _return_progress(session: AsyncSession, return_id: int, event: CarrierEvent) -> None:
    if event.kind == TrackingStatus.delivered:
        await session.execute(
            update(ReturnRequest)
            .where(
                ReturnRequest.id == return_id,
                ReturnRequest.status.in_((ReturnStatus.label_issued, ReturnStatus.in_transit)),
            )
            .values(status=ReturnStatus.received, received_at=event.occurred_at)
            .execution_options(synchronize_session=False)
        )
    elif event.kind in (TrackingStatus.picked_up, TrackingStatus.in_transit):
        await session.execute(
            update(ReturnRequest)
            .where(ReturnRequest.id == return_id, ReturnRequest.status == ReturnStatus.label_issued)
            .values(status=ReturnStatus.in_transit)
            .execution_options(synchronize_session=False)
        )


async def timeline(session: AsyncSession, *, shipment_ids: Sequence[int]) -> dict[int, list[TrackingEvent]]:
    """Events per shipment in the order they happened (not the order they arrived)."""
    rows = await session.execute(
        select(TrackingEvent)
        .where(TrackingEvent.shipment_id.in_(shipment_ids))
        .order_by(TrackingEvent.shipment_id, TrackingEvent.occurred_at, TrackingEvent.id)
    )
    grouped: dict[int, list[TrackingEvent]] = {sid: [] for sid in shipment_ids}
    for event in rows.scalars():
        grouped[event.shipment_id].append(event)
    return grouped
