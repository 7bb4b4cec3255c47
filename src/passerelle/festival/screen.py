"""The festival's big screen: aggregates maintained from order events, and the snapshot
the screen shows once a second.

`count_paid_order` runs in the transaction that marks an order paid (called from
`orders.service.payment_outcomes`): the order is counted once (a row in
`screen_counted_orders` guards against a second count) into the festival's total and per
country, merchant, live room and second, its money kept per currency. The snapshot
converts to the platform's base currency at the rate of the moment. GMV is gross: refunds
later do not take it back (the screen shows what was sold during the festival).

Because the count commits with the payment, the screen's totals equal the database's at
the same moment; the snapshot is a few indexed reads whatever the number of orders, so it
stays cheap while the claim engine runs at full speed.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import orjson
import pycountry
from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.db.prepared import Prepared, bound
from passerelle.festival import service
from passerelle.festival.models import Festival
from passerelle.festival.screen_models import Dimension, ScreenCount, ScreenCountedOrder
from passerelle.merchants.models import Merchant
from passerelle.money import FxTable, Money
from passerelle.orders.models import OrderLine, OrderStatus, OrderTotals

# Statuses of an order that was paid (GMV counts it, whatever happened after).
PAID = (
    OrderStatus.paid,
    OrderStatus.accepted,
    OrderStatus.shipped,
    OrderStatus.delivered,
    OrderStatus.completed,
    OrderStatus.refunded,
)
CHART_SECONDS = 300  # the orders/s chart shows the last five minutes
TOP = 8


class CountedOrder(OrderTotals, Protocol):
    """What the count reads of a paid order: an `Order`, or the paid webhook's row of it."""

    @property
    def created_at(self) -> datetime: ...
    @property
    def ship_to_country(self) -> str: ...


async def count_paid_order(session: AsyncSession, *, order: CountedOrder, now: datetime) -> bool:
    """Count one paid order into its festival's aggregates. False when it was already
    counted or was not placed during a festival."""
    festival_id = await _festival_at(session, order.created_at)
    if festival_id is None:
        return False
    upserts = _UPSERTS[session.get_bind().dialect.name]
    if await upserts.mark_counted.first(session, {"order_id": order.id, "festival_id": festival_id}) is None:
        return False  # counted already
    keys = [
        (Dimension.total, ""),
        (Dimension.country, order.ship_to_country),
        (Dimension.merchant, str(order.merchant_id)),
    ]
    lines = await _ATTRIBUTIONS.rows(session, {"b_order_id": order.id})
    room_ids = {str(a["room_id"]) for (a,) in lines if a and a.get("room_id")}
    keys += [(Dimension.room, room) for room in sorted(room_ids)]
    await upserts.add.run_many(
        session,
        [
            {
                "festival_id": festival_id,
                "dimension": dimension,
                "key": key,
                "currency": order.currency,
                "gmv_amount": order.total_amount,
                "b_amount": order.total_amount,
            }
            for dimension, key in keys
        ],
    )
    second = str(int(now.timestamp()))
    await upserts.add.rowcount(
        session,
        {
            "festival_id": festival_id,
            "dimension": Dimension.second,
            "key": second,
            "currency": "",
            "gmv_amount": 0,
            "b_amount": 0,
        },
    )
    await _raise_peak(session, upserts, festival_id=festival_id, second=second)
    return True


# The count's statements, built once (every paid order of a festival runs them, in its
# write transaction) and prepared (db/prepared.py); the upserts per dialect.
_COUNTS: Table = ScreenCount.__table__  # type: ignore[assignment]
_COUNTED: Table = ScreenCountedOrder.__table__  # type: ignore[assignment]
_LINES: Table = OrderLine.__table__  # type: ignore[assignment]
_ATTRIBUTIONS = Prepared(select(_LINES.c.attribution).where(_LINES.c.order_id == bindparam("b_order_id")))
_SECOND_ORDERS = Prepared(
    select(_COUNTS.c.orders).where(
        _COUNTS.c.festival_id == bindparam("b_festival_id"),
        _COUNTS.c.dimension == Dimension.second,
        _COUNTS.c.key == bindparam("b_key"),
    )
)
_RAISE_PEAK = Prepared(
    update(_COUNTS)
    .where(
        _COUNTS.c.festival_id == bindparam("b_festival_id"),
        _COUNTS.c.dimension == Dimension.peak,
        _COUNTS.c.orders < bindparam("busiest"),
    )
    .values(orders=bindparam("busiest"))
)


@dataclass(frozen=True)
class _Upserts:
    mark_counted: Prepared  # the order's guard row: no row back when it was there already
    add: Prepared  # one more order (and its money) into a count, made if missing
    peak_row: Prepared  # the festival's peak row, made if missing


def _upserts(dialect: str) -> _Upserts:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    add = insert(_COUNTS).values(**bound("festival_id", "dimension", "key", "currency", "gmv_amount"), orders=1)
    return _Upserts(
        mark_counted=Prepared(
            insert(_COUNTED)
            .values(bound("order_id", "festival_id"))
            .on_conflict_do_nothing(index_elements=[_COUNTED.c.order_id])
            .returning(_COUNTED.c.order_id)
        ),
        add=Prepared(
            add.on_conflict_do_update(
                index_elements=[_COUNTS.c.festival_id, _COUNTS.c.dimension, _COUNTS.c.key, _COUNTS.c.currency],
                set_={"orders": _COUNTS.c.orders + 1, "gmv_amount": _COUNTS.c.gmv_amount + bindparam("b_amount")},
            )
        ),
        peak_row=Prepared(
            insert(_COUNTS)
            .values(
                **bound("festival_id"),
                dimension=Dimension.peak,
                key="",
                currency="",
                orders=0,
                gmv_amount=0,
            )
            .on_conflict_do_nothing()
        ),
    )


_UPSERTS = {dialect: _upserts(dialect) for dialect in ("postgresql", "sqlite")}


async def _raise_peak(session: AsyncSession, upserts: _Upserts, *, festival_id: int, second: str) -> None:
    """The busiest second so far, kept as one row (no scan of every second)."""
    busiest = await _SECOND_ORDERS.scalar(session, {"b_festival_id": festival_id, "b_key": second})
    await upserts.peak_row.rowcount(session, {"festival_id": festival_id})
    await _RAISE_PEAK.rowcount(session, {"b_festival_id": festival_id, "busiest": int(busiest or 0)})


# Built once (every paid order runs it, in its write transaction); the id only, no ORM
# object; prepared (db/prepared.py).
_FESTIVALS: Table = Festival.__table__  # type: ignore[assignment]
_FESTIVAL_AT = Prepared(
    select(_FESTIVALS.c.id)
    .where(_FESTIVALS.c.starts_at <= bindparam("moment"), _FESTIVALS.c.ends_at > bindparam("moment"))
    .order_by(_FESTIVALS.c.id)
    .limit(1)
)


async def _festival_at(session: AsyncSession, moment: datetime) -> int | None:
    found: int | None = await _FESTIVAL_AT.scalar(session, {"moment": moment})
    return found


_FESTIVALS_OVERLAPPING = (
    select(_FESTIVALS.c.id, _FESTIVALS.c.starts_at, _FESTIVALS.c.ends_at)
    .where(_FESTIVALS.c.starts_at <= bindparam("last"), _FESTIVALS.c.ends_at > bindparam("first"))
    .order_by(_FESTIVALS.c.id)
)


async def festivals_at(session: AsyncSession, moments: list[datetime]) -> dict[datetime, int]:
    """For each of `moments` during a festival, that festival (the one `count_paid_order`
    counts it in): one query for all of them."""
    if not moments:
        return {}
    rows = list(await session.execute(_FESTIVALS_OVERLAPPING, {"first": min(moments), "last": max(moments)}))
    found: dict[datetime, int] = {}
    for moment in moments:
        festival = next((row.id for row in rows if row.starts_at <= moment < row.ends_at), None)
        if festival is not None:
            found[moment] = festival
    return found


# -- the snapshot ----------------------------------------------------------------------


@dataclass
class Extras:
    """Figures other domains add to the screen (live rooms, deliveries, packaging), each
    a coroutine given the festival; registered at start-up by those domains."""

    providers: list[Callable[[Any, Festival, dict[str, Any]], Awaitable[None]]] = field(default_factory=list)


EXTRAS = Extras()


def numeric_country(alpha2: str) -> str:
    """ISO 3166 numeric code: the world map's TopoJSON names countries by it."""
    country = pycountry.countries.get(alpha_2=alpha2)
    return str(getattr(country, "numeric", "")) if country else ""


@dataclass
class Tally:
    orders: int = 0
    gmv: int = 0  # base currency


async def snapshot(
    session: AsyncSession,
    *,
    festival: Festival,
    fx: FxTable,
    base: str,
    now: datetime,
    public: bool,
    top: int | None = TOP,
) -> dict[str, Any]:
    """The screen's figures; `top` boards (merchants, rooms) keep that many rows (None: all)."""
    rows = (
        await session.execute(
            select(ScreenCount).where(ScreenCount.festival_id == festival.id, ScreenCount.dimension != Dimension.second)
        )
    ).scalars()
    by: dict[Dimension, dict[str, Tally]] = {d: defaultdict(Tally) for d in Dimension}
    for row in rows:
        tally = by[row.dimension][row.key]
        tally.orders += row.orders
        if row.currency and fx.knows(row.currency):
            tally.gmv += fx.convert(Money(row.gmv_amount, row.currency), base).amount
    since = int((now - timedelta(seconds=CHART_SECONDS)).timestamp())
    seconds = (
        await session.execute(
            select(ScreenCount.key, ScreenCount.orders).where(
                ScreenCount.festival_id == festival.id,
                ScreenCount.dimension == Dimension.second,
                ScreenCount.key >= str(since),
            )
        )
    ).all()
    per_second = {int(key): orders for key, orders in seconds}
    total = by[Dimension.total].get("", Tally())
    current = int(now.timestamp())
    chart = [[t, per_second.get(t, 0)] for t in range(current - CHART_SECONDS, current)]  # full seconds only
    countries = sorted(by[Dimension.country].items(), key=lambda kv: (-kv[1].orders, kv[0]))
    merchants = sorted(by[Dimension.merchant].items(), key=lambda kv: (-kv[1].gmv, kv[0]))[:top]
    rooms = sorted(by[Dimension.room].items(), key=lambda kv: (-kv[1].gmv, kv[0]))[:top]
    names = await _merchant_names(session, [int(key) for key, _ in merchants])

    def money(tally: Tally) -> dict[str, int]:
        return {} if public else {"gmv": tally.gmv}

    data: dict[str, Any] = {
        "at": now.isoformat(),
        "public": public,
        "festival": {
            "id": festival.id,
            "name": festival.name,
            "starts_at": festival.starts_at.isoformat(),
            "ends_at": festival.ends_at.isoformat(),
            "time_zone": festival.time_zone,
        },
        "orders": total.orders,
        "orders_per_s": chart[-1][1] if chart else 0,
        "peak_orders_per_s": by[Dimension.peak].get("", Tally()).orders,
        "chart": chart,
        "countries": [
            {"code": key, "numeric": numeric_country(key), "orders": t.orders} | money(t) for key, t in countries
        ],
        "merchants": [
            {"id": int(key), "name": names.get(int(key), ("", ""))[0], "kind": names.get(int(key), ("", ""))[1]}
            | {"orders": t.orders}
            | money(t)
            for key, t in merchants
        ],
        "rooms": [{"id": int(key), "orders": t.orders} | money(t) for key, t in rooms],
    }
    if not public:
        data["gmv"] = {"amount": total.gmv, "currency": base}
    return data


async def _merchant_names(session: AsyncSession, ids: list[int]) -> dict[int, tuple[str, str]]:
    if not ids:
        return {}
    rows = await session.execute(select(Merchant.id, Merchant.name, Merchant.kind).where(Merchant.id.in_(ids)))
    return {
        merchant_id: (name, str(kind.value if hasattr(kind, "value") else kind)) for merchant_id, name, kind in rows
    }


async def read_snapshot(state: Any, *, public: bool) -> dict[str, Any]:
    """What the screen shows now: the current festival's aggregates plus other domains' extras."""
    now = state.clock.now()
    async with state.db.read_sessions() as session:
        festival = await service.current_festival(session, now=now)
        if festival is None:
            return {"at": now.isoformat(), "festival": None, "public": public}
        fx = await state.fx()
        base = state.settings.base_currency
        data = await snapshot(session, festival=festival, fx=fx, base=base, now=now, public=public)
        for provider in EXTRAS.providers:
            await provider(state, festival, data)
    return data


REFRESH_SECONDS = 0.5  # twice a second, so a slow snapshot never stretches a gap past 1 s
_shared: dict[tuple[int, bool], tuple[float, dict[str, Any]]] = {}


async def shared_snapshot(state: Any, *, public: bool) -> dict[str, Any]:
    """One snapshot per refresh for every screen watching, not one per screen."""
    key = (id(state), public)
    found = _shared.get(key)
    if found is not None and time.monotonic() - found[0] < REFRESH_SECONDS / 2:
        return found[1]
    data = await read_snapshot(state, public=public)
    _shared[key] = (time.monotonic(), data)
    return data


async def stream(
    state: Any, *, public: bool, once: bool, is_disconnected: Callable[[], Awaitable[bool]]
) -> AsyncIterator[bytes]:
    """Server-sent events on a fixed beat (the time a snapshot takes is not added to it)."""
    beat = time.monotonic()
    while True:
        data = await shared_snapshot(state, public=public)
        yield b"event: screen\ndata: " + orjson.dumps(data) + b"\n\n"
        if once or await is_disconnected():
            return
        beat += REFRESH_SECONDS
        await asyncio.sleep(max(0.0, beat - time.monotonic()))
