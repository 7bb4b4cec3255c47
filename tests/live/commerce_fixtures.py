"""A seeded live room that sells: the host is staff of the merchant, one co-host, buyers."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from passerelle.accounts import passwords
from passerelle.live import service
from passerelle.live.models import LiveRoom, RoomStatus
from passerelle.state import AppState
from tests import live_server as live
from tests.commerce import ADDRESS, GOOD_CARD, make_buyers
from tests.factories import Actor, make_merchant, make_product, make_user
from tests.live.conftest import in_thread


@dataclass
class Shop:
    server: live.LiveServer
    data_dir: Path
    host: Actor
    cohost: Actor
    buyers: list[Actor]
    product_id: int  # on sale, 50 units
    item_id: int  # the C2C item auctioned
    room_id: int

    def rows(self, query: str, *args: Any) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.data_dir / "passerelle.db") as db:
            return db.execute(query, args).fetchall()


def seed_shop(data_dir: Path) -> Shop:
    made: list[Any] = []

    async def seed(state: AppState) -> None:
        passwords.configure(time_cost=1, memory_kib=1024)
        host, cohost = await make_user(state), await make_user(state)
        merchant = await make_merchant(state, host)
        product = await make_product(state, merchant, stock=50, price=4900)
        item = await make_product(
            state, merchant, stock=1, price=2000, title_fr="Veste vintage", title_en="Vintage jacket"
        )
        buyers = await make_buyers(state, 14)
        async with state.db.sessions() as session:
            room, _ = await service.create_room(
                session,
                host=await session.merge(host.user),
                title="Live ventes",
                language="fr",
                starts_at=datetime.now(UTC),
                cohosts=[cohost.user.id],
                product_ids=[product, item],
            )
            room.status, room.went_live_at = RoomStatus.live, datetime.now(UTC)  # as if the encoder started
            await session.commit()
            made.append((host, cohost, buyers, product, item, room.id))
        assert isinstance(room, LiveRoom)

    in_thread(lambda: live.prepare(data_dir, seed))
    host, cohost, buyers, product, item, room_id = made[0]
    return Shop(None, data_dir, host, cohost, buyers, product, item, room_id)  # type: ignore[arg-type]


@pytest.fixture(scope="module", name="shop")
def shop_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    data_dir = tmp_path_factory.mktemp("live-shop")
    made = seed_shop(data_dir)
    made.server = live.start(data_dir, extra_env={"PASSERELLE_CLAIMS_PER_IP_PER_SECOND": "1000"})
    try:
        yield made
    finally:
        made.server.stop()


async def call(shop: Shop, method: str, path: str, actor: Actor | None = None, **kwargs: Any) -> httpx.Response:
    async with httpx.AsyncClient(base_url=shop.server.url, timeout=20) as client:
        headers = actor.headers if actor else None
        return await client.request(method, f"/api/v1{path}", headers=headers, **kwargs)


async def pay_checkout(shop: Shop, buyer: Actor, path: str = "/checkout") -> int:
    """Check out (the cart, or a reservation) with the sandbox card; the order id once paid."""
    placed = await call(shop, "POST", path, buyer, json={"shipping_address": ADDRESS, "payment_provider": "sandbox"})
    assert placed.status_code == 201, placed.text
    body = placed.json()
    paid = await call(shop, "POST", f"/payments/sandbox/{body['payment']['id']}/pay", json={"card_number": GOOD_CARD})
    assert paid.status_code == 202, paid.text
    order_id = int(body["orders"][0]["id"])
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:  # the server's outbox runner applies the webhook
        if shop.rows("SELECT status FROM orders WHERE id = ?", order_id)[0][0] == "paid":
            return order_id
        await asyncio.sleep(0.1)
    raise AssertionError("the order was not paid")
