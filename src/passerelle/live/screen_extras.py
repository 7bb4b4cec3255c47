"""The big screen's live rooms: each room's title and current viewers, and the rooms live
now with no order yet (the top few by viewers)."""

from __future__ import annotations

from typing import Any

from passerelle.festival.models import Festival
from passerelle.live import service
from passerelle.live.models import LiveRoom, RoomStatus

LIVE_ROWS = 5


async def live_rooms(state: Any, festival: Festival, data: dict[str, Any]) -> None:
    live = state.live
    rows: list[dict[str, Any]] = data.setdefault("rooms", [])

    async def viewers(room_id: int) -> int:
        if live is None:
            return 0
        return int(await live.hub.backend.viewer_total(room_id, live.hub.viewers(room_id)))

    async with state.db.read_sessions() as session:
        known = {row["id"] for row in rows}
        on_now = await service.list_rooms(session, statuses=[RoomStatus.live], limit=200)
        extra: list[dict[str, Any]] = [
            {"id": r.id, "orders": 0, "_title": r.title} for r in on_now if r.id not in known
        ]
        for row in extra:
            row["viewers"] = await viewers(row["id"])
        extra.sort(key=lambda row: -row["viewers"])
        for row in rows:
            room = await session.get(LiveRoom, row["id"])
            row["title"] = room.title if room else ""
            row["viewers"] = await viewers(row["id"])
        for row in extra[:LIVE_ROWS]:
            row["title"] = row.pop("_title")
            if not data.get("public", True):
                row["gmv"] = 0
            rows.append(row)
