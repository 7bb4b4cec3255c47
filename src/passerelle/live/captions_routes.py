"""Routes of live captions in rooms: the host's settings (JSON and console form) and the replay's
WebVTT tracks. Room ownership is checked here; passerelle.captions' own routes only report status."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.deps import CurrentUser, Session, State, UnitOfWorkRoute, after_commit
from passerelle.errors import DomainError, NotFound
from passerelle.http import PathId
from passerelle.i18n.messages import N_
from passerelle.live import service
from passerelle.live.captions import VIEWER_LANGUAGES, LiveCaptions, language_choices, live_captions, vtt_root
from passerelle.live.models import LiveRoom
from passerelle.web.context import PageContext, form_text, page_guard, path_id

api_router = APIRouter(prefix="/live", tags=["live"], route_class=UnitOfWorkRoute)
pages_router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute, dependencies=[Depends(page_guard)])
VTT_NAME = re.compile(r"^([a-z]{2,3})\.vtt$")


class CaptionSettingsIn(BaseModel):
    enabled: bool | None = None
    spoken_language: str | None = Field(default=None, pattern=r"^[a-z]{2,3}$")


def _captions(request: Request) -> LiveCaptions:
    captions = live_captions(request.app)
    if captions is None:
        raise DomainError("captions_unavailable", N_("Captions are unavailable on this server."), status=409)
    return captions


async def _apply(
    captions: LiveCaptions, session: AsyncSession, room: LiveRoom, enabled: bool | None, language: str | None
) -> bool:
    if language is not None and language not in VIEWER_LANGUAGES:
        raise DomainError("invalid_language", N_("Choose a language from the list."), status=422)
    if language is not None:
        room.language = language  # the room's language is the language spoken on the stream
    current = captions.rooms.get(str(room.id))
    on = enabled if enabled is not None else (current.enabled if current else True)
    spoken, room_id, on_air = room.language, room.id, room.on_air
    after_commit(session, lambda: captions.host_settings(room_id, enabled=on, spoken_language=spoken, on_air=on_air))
    return on


@api_router.put("/rooms/{room_id}/captions")
async def caption_settings(
    room_id: PathId, body: CaptionSettingsIn, user: CurrentUser, session: Session, request: Request
) -> dict[str, object]:
    """The host turns captions on or off and sets the spoken language (applied at once if on air)."""
    captions = _captions(request)
    room = await service.room_for_host(session, room_id=room_id, actor=user)
    enabled = await _apply(captions, session, room, body.enabled, body.spoken_language)
    return {"room_id": room.id, "enabled": enabled, "spoken_language": room.language}


@pages_router.post("/live/{room_ref}/host/captions")
async def caption_settings_form(room_ref: str, page: PageContext, session: Session) -> Response:
    captions = _captions(page.request)
    room = await service.room_for_host(session, room_id=path_id(room_ref, "room"), actor=page.require_user())
    form = await page.form()
    language = form_text(form, "spoken_language", max_length=3) or None
    await _apply(captions, session, room, form_text(form, "enabled", max_length=3) == "on", language)
    return RedirectResponse(f"/live/{room.id}/host", status_code=303)


@pages_router.get("/live/{room_ref}/captions/{name}")
async def vtt_track(room_ref: str, name: str, state: State) -> Response:
    """A replay's caption track: names are checked against a pattern, never joined raw into a path."""
    matched = VTT_NAME.match(name)
    if matched is None:
        raise NotFound("captions")
    path = vtt_root(state) / str(path_id(room_ref, "room")) / f"{matched.group(1)}.vtt"
    if not path.is_file():
        raise NotFound("captions")
    return FileResponse(path, media_type="text/vtt", headers={"Cache-Control": "no-cache"})


def room_context(request: Request, room: LiveRoom) -> dict[str, Any]:
    """What the room page needs: captions on offer, the languages to pick, the replay's tracks."""
    captions = live_captions(request.app)
    folder = vtt_root(request.app.state.passerelle) / str(room.id)
    tracks = sorted(p.stem for p in folder.glob("*.vtt")) if not room.on_air and folder.is_dir() else []
    return {
        "captions_available": captions is not None and captions.available,
        "caption_languages": language_choices(),
        "caption_tracks": [t for t in tracks if t in VIEWER_LANGUAGES],
    }


def console_context(request: Request, room: LiveRoom) -> dict[str, Any]:
    captions = live_captions(request.app)
    current = captions.rooms.get(str(room.id)) if captions else None
    return {
        "captions_ready": captions is not None,
        "captions_enabled": current.enabled if current else True,
        "caption_languages": language_choices(),
    }
