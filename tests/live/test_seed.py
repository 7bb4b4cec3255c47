"""The demo seed's live rooms."""

from __future__ import annotations

import httpx

from passerelle.accounts.models import Role
from passerelle.seed.live import ensure_live_rooms
from passerelle.state import AppState
from tests.factories import make_merchant, make_product, make_user


async def test_given_a_seeded_shop_when_seeding_live_rooms_then_one_is_live_one_scheduled_once(
    client: httpx.AsyncClient, state: AppState
) -> None:
    await make_user(state, role=Role.influencer)
    await make_user(state)
    await make_product(state, await make_merchant(state, await make_user(state)))
    assert await ensure_live_rooms(state) == 2
    assert await ensure_live_rooms(state) == 0
    rooms = (await client.get("/api/v1/live/rooms")).json()["items"]
    assert sorted(r["status"] for r in rooms) == ["live", "scheduled"]
    live = next(r for r in rooms if r["status"] == "live")
    assert live["product_ids"] and not live["on_air"]
    history = (await client.get(f"/api/v1/live/rooms/{live['id']}/messages")).json()["items"]
    assert len(history) == 4
