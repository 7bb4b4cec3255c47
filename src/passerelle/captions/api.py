"""JSON routes: the engines in use and a room's caption status (for the host console and monitoring).

The app's lifespan sets ``app.state.captions = CaptionRooms(...)``; until it does, routes answer 503.
Settings changes (on/off, spoken language) go through the live room's own host routes, which call
``CaptionRooms.configure``: ownership of a room is the live package's business.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request

from passerelle.captions.service import CaptionRooms

router = APIRouter(prefix="/captions", tags=["captions"])


def rooms_of(request: Request) -> CaptionRooms:
    rooms = getattr(request.app.state, "captions", None)
    if not isinstance(rooms, CaptionRooms):
        raise HTTPException(503, detail="captions are not configured on this server")
    return rooms


@router.get("/engines")
async def engines(request: Request) -> dict[str, object]:
    return rooms_of(request).engines.describe()


@router.get("/rooms/{room_id}")
async def room_status(room_id: str, request: Request) -> dict[str, object]:
    rooms = rooms_of(request)
    room = rooms.get(room_id)
    if room is None:
        raise HTTPException(404, detail="no captions for this room")
    return room.status(rooms.engines)
