"""JSON routes for live rooms, nginx's publish callbacks, and the room's WebSocket."""

from __future__ import annotations

import hmac
import logging
from typing import Annotated

import httpx
from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.accounts.models import User
from passerelle.config import Settings
from passerelle.deps import CurrentUser, Session, State, UnitOfWorkRoute, after_commit
from passerelle.errors import DomainError
from passerelle.http import PathId
from passerelle.live import service
from passerelle.live.captions import live_captions
from passerelle.live.chat import announce_sanction
from passerelle.live.media import APP, finish_recording, media_paths, stream_name
from passerelle.live.models import LiveRoom, MemberRole, RoomStatus, SanctionKind
from passerelle.live.schemas import (
    ChatMessageList,
    ChatMessageOut,
    ChatSettingsIn,
    ChatSettingsOut,
    ModeratorsIn,
    PersonOut,
    RoomCreated,
    RoomIn,
    RoomList,
    RoomOut,
    SanctionIn,
    ShowcaseIn,
    StreamKeyOut,
)
from passerelle.live.ws import room_socket
from passerelle.state import AppState

log = logging.getLogger("passerelle.live")
router = APIRouter(prefix="/live", tags=["live"], route_class=UnitOfWorkRoute)
router.add_api_websocket_route("/rooms/{room_id}/ws", room_socket)


def rtmp_url(settings: Settings, request: Request) -> str:
    return settings.media_rtmp_url or f"rtmp://{request.url.hostname}:{settings.media_rtmp_port}/{APP}"


def hls_url(settings: Settings, room_id: int) -> str:
    return f"{settings.media_hls_url.rstrip('/')}/{stream_name(room_id)}.m3u8"


async def room_out(session: AsyncSession, room: LiveRoom, settings: Settings) -> RoomOut:
    host = await session.get(User, room.host_id)
    people = await service.members(session, room_id=room.id)
    return RoomOut(
        id=room.id,
        title=room.title,
        language=room.language,
        starts_at=room.starts_at,
        status=room.status.value,
        on_air=room.on_air,
        went_live_at=room.went_live_at,
        ended_at=room.ended_at,
        host=PersonOut(id=room.host_id, name=host.display_name if host else ""),
        cohosts=[PersonOut(id=u.id, name=u.display_name) for u, role in people if role == MemberRole.cohost],
        product_ids=await service.showcase(session, room_id=room.id),
        hls_url=hls_url(settings, room.id),
        page_url=f"/live/{room.id}",
    )


def publish_after_commit(session: AsyncSession, state: AppState, room_id: int, event: dict[str, object]) -> None:
    live = state.live
    if live is not None:
        after_commit(session, lambda: live.hub.publish(room_id, event))


def status_event(room: LiveRoom) -> dict[str, object]:
    return {"type": "status", "status": room.status.value, "on_air": room.on_air}


@router.post("/rooms", status_code=201, response_model=RoomCreated)
async def create_room(body: RoomIn, user: CurrentUser, session: Session, state: State, request: Request) -> RoomCreated:
    """Schedule a room. The answer holds the stream key, shown this once."""
    room, key = await service.create_room(
        session,
        host=user,
        title=body.title,
        language=body.language,
        starts_at=body.starts_at,
        cohosts=body.cohosts,
        product_ids=body.product_ids,
    )
    out = await room_out(session, room, state.settings)
    return RoomCreated(
        **out.model_dump(), stream=StreamKeyOut(rtmp_url=rtmp_url(state.settings, request), stream_key=key)
    )


@router.get("/rooms", response_model=RoomList)
async def list_rooms(
    session: Session,
    state: State,
    status: Annotated[list[RoomStatus] | None, Query(description="Default: live and scheduled")] = None,
) -> RoomList:
    rooms = await service.list_rooms(session, statuses=status or [RoomStatus.live, RoomStatus.scheduled])
    return RoomList(items=[await room_out(session, r, state.settings) for r in rooms])


@router.get("/rooms/{room_id}", response_model=RoomOut)
async def get_room(room_id: PathId, session: Session, state: State) -> RoomOut:
    return await room_out(session, await service.get_room(session, room_id), state.settings)


@router.get("/rooms/{room_id}/messages", response_model=ChatMessageList)
async def messages(
    room_id: PathId, session: Session, limit: Annotated[int, Query(ge=1, le=service.HISTORY)] = service.HISTORY
) -> ChatMessageList:
    """The room's latest stored chat messages, oldest first (stored in batches: a second behind)."""
    await service.get_room(session, room_id)
    stored = await service.recent_messages(session, room_id=room_id, limit=limit)
    return ChatMessageList(
        items=[
            ChatMessageOut(
                id=m.uid,
                user=PersonOut(id=m.user_id, name=m.author) if m.user_id is not None else None,
                text=m.body,
                at=m.sent_at,
            )
            for m in stored
        ]
    )


@router.put("/rooms/{room_id}/showcase", response_model=RoomOut)
async def set_showcase(room_id: PathId, body: ShowcaseIn, user: CurrentUser, session: Session, state: State) -> RoomOut:
    room = await service.room_for_host(session, room_id=room_id, actor=user)
    products = await service.set_showcase(session, room=room, product_ids=body.product_ids)
    publish_after_commit(session, state, room.id, {"type": "showcase", "product_ids": products})
    return await room_out(session, room, state.settings)


@router.post("/rooms/{room_id}/stream-key", response_model=StreamKeyOut)
async def rotate_key(
    room_id: PathId, user: CurrentUser, session: Session, state: State, request: Request
) -> StreamKeyOut:
    """A new stream key; the old one stops working for the next publish."""
    room = await service.room_for_host(session, room_id=room_id, actor=user)
    key = await service.rotate_key(session, room=room)
    return StreamKeyOut(rtmp_url=rtmp_url(state.settings, request), stream_key=key)


@router.post("/rooms/{room_id}/end", response_model=RoomOut)
async def end_room(room_id: PathId, user: CurrentUser, session: Session, state: State) -> RoomOut:
    """End the room: the encoder is dropped and the key refused from now on."""
    room = await service.room_for_host(session, room_id=room_id, actor=user)
    was_on_air = room.on_air
    await service.end_room(session, room=room, now=state.clock.now())
    publish_after_commit(session, state, room.id, status_event(room))
    after_commit(session, lambda: drop_publisher(state.settings, room.id))
    if not was_on_air:  # nginx is done with the playlist; when on air, on_publish_done marks it
        after_commit(session, lambda: finish_replay(state.settings, room.id))
    return await room_out(session, room, state.settings)


@router.put("/rooms/{room_id}/chat", response_model=ChatSettingsOut)
async def chat_settings(
    room_id: PathId, body: ChatSettingsIn, user: CurrentUser, session: Session, state: State
) -> ChatSettingsOut:
    room = await service.room_for_host(session, room_id=room_id, actor=user)
    await service.update_chat_settings(
        session, room=room, slow_mode_seconds=body.slow_mode_seconds, blocked_words=body.blocked_words
    )
    publish_after_commit(session, state, room.id, {"type": "_policy"})
    return await _chat_settings_out(session, room)


@router.put("/rooms/{room_id}/moderators", response_model=ChatSettingsOut)
async def set_moderators(
    room_id: PathId, body: ModeratorsIn, user: CurrentUser, session: Session, state: State
) -> ChatSettingsOut:
    room = await service.room_for_host(session, room_id=room_id, actor=user)
    await service.set_moderators(session, room=room, users=body.users)
    publish_after_commit(session, state, room.id, {"type": "_policy"})
    return await _chat_settings_out(session, room)


async def _chat_settings_out(session: AsyncSession, room: LiveRoom) -> ChatSettingsOut:
    people = await service.members(session, room_id=room.id)
    return ChatSettingsOut(
        slow_mode_seconds=room.slow_mode_seconds,
        blocked_words=list(room.blocked_words),
        moderators=[PersonOut(id=u.id, name=u.display_name) for u, _ in people],
    )


@router.post("/rooms/{room_id}/sanctions", status_code=204)
async def add_sanction(
    room_id: PathId, body: SanctionIn, user: CurrentUser, session: Session, state: State
) -> Response:
    """Mute (may watch, not post) or ban (kicked, may not come back). Moderators only."""
    room = await service.get_room(session, room_id)
    kind = SanctionKind(body.kind)
    await service.sanction(session, room=room, actor=user, user_id=body.user_id, kind=kind)
    live = state.live
    if live is not None:
        after_commit(session, lambda: announce_sanction(live.hub, room_id=room.id, user_id=body.user_id, kind=kind))
    return Response(status_code=204)


@router.delete("/rooms/{room_id}/sanctions/{user_id}", status_code=204)
async def lift_sanction(
    room_id: PathId, user_id: PathId, user: CurrentUser, session: Session, state: State
) -> Response:
    room = await service.room_for_host(session, room_id=room_id, actor=user)
    await service.lift_sanction(session, room=room, user_id=user_id)
    publish_after_commit(session, state, room.id, {"type": "_policy"})
    return Response(status_code=204)


# --- nginx-rtmp callbacks (form posts from the media server) ---------------------------------


def _check_media_secret(state: AppState, secret: str) -> None:
    if not hmac.compare_digest(secret.encode(), state.settings.resolved_media_secret.encode()):
        raise DomainError("forbidden", "Unknown media server", status=403)


@router.post("/media/on_publish", include_in_schema=False)
async def on_publish(request: Request, session: Session, state: State, secret: str = "") -> Response:
    """2xx lets the encoder publish; 403 makes nginx drop it."""
    _check_media_secret(state, secret)
    form = await request.form()
    name, key = str(form.get("name") or ""), str(form.get("key") or "")
    room = await service.start_publishing(session, name=name, key=key, now=state.clock.now())
    if room is None:
        log.warning("refused a publish on %r from %s", name[:40], form.get("addr"))
        return Response("refused", status_code=403)
    publish_after_commit(session, state, room.id, status_event(room))
    if (captions := live_captions(request.app)) is not None:
        after_commit(session, lambda: captions.stream_started(room.id, room.language))
    return Response("ok")


@router.post("/media/on_publish_done", include_in_schema=False)
async def on_publish_done(request: Request, session: Session, state: State, secret: str = "") -> Response:
    _check_media_secret(state, secret)
    form = await request.form()
    room = await service.stop_publishing(session, name=str(form.get("name") or ""), now=state.clock.now())
    if room is not None:
        publish_after_commit(session, state, room.id, status_event(room))
        if room.status == RoomStatus.ended:  # nginx wrote the last segment before calling back
            finish_replay(state.settings, room.id)
        if (captions := live_captions(request.app)) is not None:
            after_commit(session, lambda: captions.stream_ended(room.id))
    return Response("ok")


def finish_replay(settings: Settings, room_id: int) -> None:
    """An ended room's kept playlist becomes the replay's finished (VOD) video."""
    if settings.media_record:
        finish_recording(media_paths(settings), room_id)


async def drop_publisher(settings: Settings, room_id: int) -> None:
    """Ask nginx (control endpoint, loopback) to cut the encoder of an ended room; best effort."""
    url = f"http://127.0.0.1:{settings.media_http_port}/control/drop/publisher"
    try:
        async with httpx.AsyncClient(timeout=2) as client:
            await client.get(url, params={"app": APP, "name": stream_name(room_id)})
    except httpx.HTTPError:
        log.info("media server not reachable to drop room %s's publisher", room_id)
