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
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

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


def peak(intervals: list[tuple[datetime, datetime]]) -> int:
    """Most sessions open at once (a leave at the same instant as a join counts first)."""
    edges = sorted([(a, 1) for a, _ in intervals] + [(b, -1) for _, b in intervals], key=lambda e: (e[0], e[1]))
    best = current = 0
    for _, step in edges:
        current += step
        best = max(best, current)
    return best


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
    rows = (
        await session.execute(
            select(LiveViewSession.viewer, LiveViewSession.joined_at, LiveViewSession.left_at).where(
                LiveViewSession.room_id == room_id
            )
        )
    ).all()
    visits = [(v, a, b) for v, a, b in rows]
    if recorder is not None:
        visits += [(o.viewer, o.joined_at, now) for o in recorder.open.values() if o.room_id == room_id]
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
        "peak_viewers": peak([(a, b) for _, a, b in visits]),
        "unique_viewers": len({v for v, _, _ in visits}),
        "watch_seconds": int(sum((b - a).total_seconds() for _, a, b in visits)),
        "chat_messages": int((await session.execute(chat)).scalar_one()),
        "card_clicks": sum(p["clicks"] for p in products),
        "orders": len(orders) if product_ids is None else len({o for p in product_ids for o in orders_of[p]}),
        "gmv": {"amount": sum(p["gmv"]["amount"] for p in products), "currency": base},
        "products": products,
    }
