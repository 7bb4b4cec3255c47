"""Room analytics: raw facts recorded cheaply (in memory, one INSERT per batch every half
second), figures computed when the host or a merchant asks.

Viewer sessions are written when the socket closes; the sessions still open on this process
count up to now. Conversion of a product = its paid order lines / its card clicks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import bindparam, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.db.base import UTCDateTime
from passerelle.db.engine import Database
from passerelle.infra.clock import Clock
from passerelle.live.commerce_models import LiveCardClick, LiveViewSession
from passerelle.live.models import LiveChatMessage
from passerelle.money import FxTable, Money
from passerelle.orders.models import Order, OrderLine, OrderStatus

log = logging.getLogger("passerelle.live")
SOLD = (OrderStatus.paid, OrderStatus.accepted, OrderStatus.shipped, OrderStatus.delivered, OrderStatus.completed)


@dataclass
class Open:
    room_id: int
    viewer: str
    joined_at: datetime


class Recorder:
    def __init__(self, db: Database, clock: Clock, *, interval: float = 0.5) -> None:
        self.db = db
        self.clock = clock
        self.interval = interval
        self.open: dict[int, Open] = {}  # id(connection) -> its session
        self._sessions: list[dict[str, Any]] = []
        self._clicks: list[dict[str, Any]] = []
        self._task: asyncio.Task[None] | None = None

    def joined(self, key: int, *, room_id: int, user_id: int | None) -> None:
        viewer = f"u{user_id}" if user_id is not None else f"g{secrets.token_hex(8)}"
        self.open[key] = Open(room_id, viewer, self.clock.now())

    def left(self, key: int) -> None:
        found = self.open.pop(key, None)
        if found is not None:
            self._sessions.append(
                {"room_id": found.room_id, "viewer": found.viewer, "joined_at": found.joined_at,
                 "left_at": self.clock.now()}
            )  # fmt: skip

    def clicked(self, *, room_id: int, product_id: int) -> None:
        self._clicks.append({"room_id": room_id, "product_id": product_id, "at": self.clock.now()})

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="live-analytics-writer")

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.flush()
            except Exception:
                log.exception("room analytics batch not stored")

    async def flush(self) -> None:
        sessions, self._sessions = self._sessions, []
        clicks, self._clicks = self._clicks, []
        if sessions or clicks:
            async with self.db.writing() as session:
                if sessions:
                    await session.execute(insert(LiveViewSession), sessions)
                if clicks:
                    await session.execute(insert(LiveCardClick), clicks)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for key in list(self.open):
            self.left(key)
        await self.flush()


# Viewer figures are computed by the database: a room of a big live holds millions of session
# rows, which must not travel to Python. The sessions still open on this process (in memory,
# bounded by its sockets) join them as one JSON parameter, whatever their number (bind
# parameters are capped at ~32k per statement on both backends).
# Peak: every session is a +1 edge at its join and a -1 edge at its leave; the running sum in
# (time, step) order, -1 first on a tie, is the number open after each edge; its maximum is the
# peak. Window functions with a ROWS frame: SQLite >= 3.25 and PostgreSQL.
_VIEWERS = """
WITH visits AS (
    SELECT viewer, joined_at, left_at FROM live_view_sessions WHERE room_id = :room_id
    UNION ALL
    {open_rows}
),
edges AS (
    SELECT joined_at AS t, 1 AS step FROM visits
    UNION ALL
    SELECT left_at AS t, -1 AS step FROM visits
),
running AS (
    SELECT SUM(step) OVER (ORDER BY t, step ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS n FROM edges
)
SELECT
    (SELECT COUNT(DISTINCT viewer) FROM visits),
    (SELECT COALESCE(SUM({micros}), 0) FROM visits),
    (SELECT COALESCE(MAX(n), 0) FROM running)
"""
_SQL = {
    # SQLite keeps datetimes as text "YYYY-MM-DD HH:MM:SS.ffffff" (SQLAlchemy's fixed format):
    # open sessions are given in that format so that text order is time order, and durations
    # are whole seconds (of the text cut before the fraction: strftime rounds .9995 up) plus the
    # microsecond digits, exact where julianday() would round.
    "sqlite": _VIEWERS.format(
        open_rows="SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), :now FROM json_each(:open)",
        micros="(CAST(strftime('%s', substr(left_at, 1, 19)) AS INTEGER)"
        " - CAST(strftime('%s', substr(joined_at, 1, 19)) AS INTEGER)) * 1000000"
        " + CAST(substr(left_at, 21) AS INTEGER) - CAST(substr(joined_at, 21) AS INTEGER)",
    ),
    "postgresql": _VIEWERS.format(
        open_rows="SELECT value->>0, CAST(value->>1 AS timestamptz), CAST(:now AS timestamptz)"
        " FROM json_array_elements(CAST(:open AS json))",
        micros="EXTRACT(EPOCH FROM left_at - joined_at) * 1000000",  # numeric: exact
    ),
}


@dataclass(frozen=True)
class ViewerFigures:
    peak: int
    unique: int
    watch_seconds: int


async def viewer_figures(session: AsyncSession, *, room_id: int, open_now: list[Open], now: datetime) -> ViewerFigures:
    """Peak, unique viewers and watch time of the stored sessions plus `open_now` (counted up
    to `now`), aggregated in SQL."""
    dialect = session.get_bind().dialect.name
    # SQLite: SQLAlchemy's storage format (no zone, UTC); PostgreSQL: ISO with its offset.
    stamp = "%Y-%m-%d %H:%M:%S.%f" if dialect == "sqlite" else "%Y-%m-%dT%H:%M:%S.%f+00:00"
    opened = orjson.dumps([[o.viewer, o.joined_at.astimezone(UTC).strftime(stamp)] for o in open_now]).decode()
    query = text(_SQL[dialect]).bindparams(
        bindparam("room_id", room_id), bindparam("open", opened), bindparam("now", now, type_=UTCDateTime())
    )
    unique, micros, most = (await session.execute(query)).one()
    return ViewerFigures(peak=int(most), unique=int(unique), watch_seconds=int(micros) // 1_000_000)


async def report(
    session: AsyncSession,
    *,
    room_id: int,
    recorder: Recorder | None,
    now: datetime,
    fx: FxTable,
    base: str,
    product_ids: set[int] | None = None,
) -> dict[str, Any]:
    """The room's figures; `product_ids` limits the per-product rows (a merchant's own)."""
    open_now = [o for o in recorder.open.values() if o.room_id == room_id] if recorder is not None else []
    viewers = await viewer_figures(session, room_id=room_id, open_now=open_now, now=now)
    chat = select(func.count()).select_from(LiveChatMessage).where(LiveChatMessage.room_id == room_id)
    clicks = await session.execute(
        select(LiveCardClick.product_id, func.count())
        .where(LiveCardClick.room_id == room_id)
        .group_by(LiveCardClick.product_id)
    )
    per_product: dict[int, dict[str, int]] = defaultdict(lambda: {"clicks": 0, "orders": 0, "units": 0, "gmv": 0})
    for product_id, count in clicks.all():
        per_product[product_id]["clicks"] = int(count)
    sold = await session.execute(
        select(OrderLine.product_id, OrderLine.order_id, OrderLine.quantity, OrderLine.line_amount, Order.currency)
        .join(Order, Order.id == OrderLine.order_id)
        .where(OrderLine.attribution["room_id"].as_integer() == room_id, Order.status.in_(SOLD))
    )
    orders: set[int] = set()
    orders_of: dict[int, set[int]] = defaultdict(set)
    for product_id, order_id, quantity, amount, currency in sold.all():
        row = per_product[product_id]
        orders.add(order_id)
        orders_of[product_id].add(order_id)
        row["units"] += quantity
        row["gmv"] += fx.convert(Money(amount, currency), base).amount if fx.knows(currency) else 0
    products: list[dict[str, Any]] = []
    for product_id, row in sorted(per_product.items()):
        if product_ids is not None and product_id not in product_ids:
            continue
        row["orders"] = len(orders_of[product_id])
        conversion = round(row["orders"] / row["clicks"], 4) if row["clicks"] else None
        products.append(
            {"product_id": product_id, "clicks": row["clicks"], "orders": row["orders"], "units": row["units"],
             "gmv": {"amount": row["gmv"], "currency": base}, "conversion": conversion}
        )  # fmt: skip
    return {
        "room_id": room_id,
        "at": now.isoformat(),
        "peak_viewers": viewers.peak,
        "unique_viewers": viewers.unique,
        "watch_seconds": viewers.watch_seconds,
        "chat_messages": int((await session.execute(chat)).scalar_one()),
        "card_clicks": sum(p["clicks"] for p in products),
        "orders": len(orders) if product_ids is None else len({o for p in product_ids for o in orders_of[p]}),
        "gmv": {"amount": sum(p["gmv"]["amount"] for p in products), "currency": base},
        "products": products,
    }
