"""The big screen's live-room extras: titles and viewers, live rooms without orders too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from passerelle.festival.models import Festival
from passerelle.festival.screen import EXTRAS
from passerelle.live import service
from passerelle.live.models import RoomStatus
from passerelle.live.screen_extras import live_rooms
from passerelle.state import AppState
from tests.factories import make_user


async def test_given_a_live_room_without_orders_when_the_screen_reads_then_it_shows_title_and_viewers(
    state: AppState,
) -> None:
    host = await make_user(state)
    now = datetime.now(UTC)
    async with state.db.sessions() as session:
        user = await session.merge(host.user)
        sold, _ = await service.create_room(session, host=user, title="Ventes", language="fr", starts_at=now)
        live, _ = await service.create_room(session, host=user, title="En direct <b>", language="fr", starts_at=now)
        live.status = RoomStatus.live
        festival = Festival(
            name="11.11",
            slug="f",
            starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(hours=1),
            time_zone="UTC",
        )
        session.add(festival)
        await session.commit()
        ids = (sold.id, live.id)
    data: dict[str, Any] = {"public": False, "rooms": [{"id": ids[0], "orders": 3, "gmv": 900}]}
    await live_rooms(state, festival, data)
    assert data["rooms"] == [
        {"id": ids[0], "orders": 3, "gmv": 900, "title": "Ventes", "viewers": 0},
        {"id": ids[1], "orders": 0, "gmv": 0, "title": "En direct <b>", "viewers": 0},
    ]
    from passerelle.app import create_app

    create_app(state=state)  # the app installs the screen's providers, once however often it is built
    create_app(state=state)
    assert EXTRAS.providers.count(live_rooms) == 1
