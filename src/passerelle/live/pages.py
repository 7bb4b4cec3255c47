"""HTML routes: /live (live and upcoming rooms, a form to schedule one), /live/{id} (video,
chat, showcase), /live/{id}/host (the host's console: stream key, OBS settings, moderation),
and /live/hls/... (the HLS files nginx writes, served from this origin).

The room page is driven by static/js/live.js from data attributes: the WebSocket URL, the
HLS URL, and the translated texts it shows.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.accounts.models import User
from passerelle.catalog import views
from passerelle.catalog.schemas import ProductCard
from passerelle.deps import Session, State, UnitOfWorkRoute, after_commit
from passerelle.errors import DomainError, NotFound
from passerelle.i18n.messages import N_
from passerelle.live import service
from passerelle.live.api import drop_publisher, hls_url, publish_after_commit, rtmp_url, status_event
from passerelle.live.captions_routes import console_context as captions_console_context
from passerelle.live.captions_routes import room_context as captions_room_context
from passerelle.live.chat import MAX_LENGTH
from passerelle.live.media import media_paths
from passerelle.live.models import LiveRoom, MemberRole, RoomStatus
from passerelle.web.context import Page, PageContext, form_text, page_guard, path_id

router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute, dependencies=[Depends(page_guard)])
HLS_FILE = re.compile(r"^room-\d{1,18}(-\d{1,12})?\.(m3u8|ts)$")
STATUS_LABELS = {"scheduled": N_("Upcoming"), "live": N_("Live"), "ended": N_("Ended")}


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _ids(raw: str) -> list[int]:
    """Product ids typed as "12, 15 18"; anything not a number is refused."""
    parts = [p for p in re.split(r"[\s,;]+", raw) if p]
    if any(not p.isdigit() or len(p) > 18 for p in parts):
        raise DomainError("invalid_product_ids", N_("Product numbers must be whole numbers"), status=422)
    return [int(p) for p in parts]


def _lines(raw: str, *, max_items: int) -> list[str]:
    return [line.strip() for line in re.split(r"[\n,]+", raw) if line.strip()][:max_items]


async def _cards(page: Page, session: AsyncSession, product_ids: list[int]) -> list[ProductCard]:
    found = await views.cards(
        session,
        product_ids=product_ids,
        language=page.locale.language,
        currency=page.locale.currency,
        fx=page.locale.fx,
    )
    order = {p: i for i, p in enumerate(product_ids)}
    return sorted(found, key=lambda card: order.get(card.id, 0))


async def _host_name(session: AsyncSession, room: LiveRoom) -> str:
    host = await session.get(User, room.host_id)
    return host.display_name if host else ""


@router.get("/live")
async def rooms_page(page: PageContext, session: Session, state: State) -> Response:
    rooms = await service.list_rooms(session, statuses=[RoomStatus.live, RoomStatus.scheduled])
    hosts = {r.id: await _host_name(session, r) for r in rooms}
    return page.render(
        "live/rooms.html",
        live_rooms=[r for r in rooms if r.status == RoomStatus.live],
        upcoming=[r for r in rooms if r.status == RoomStatus.scheduled],
        hosts=hosts,
        now_local=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M"),
        login_next="/live",
    )


@router.post("/live")
async def schedule_room(page: PageContext, session: Session) -> Response:
    user = page.require_user()
    form = await page.form()
    try:
        starts_at = datetime.fromisoformat(form_text(form, "starts_at", max_length=30)).replace(tzinfo=UTC)
    except ValueError as error:
        raise DomainError("invalid_start", N_("Give a valid start time"), status=422) from error
    title = form_text(form, "title", max_length=140)
    if not title:
        raise DomainError("invalid_title", N_("Give the room a title"), status=422)
    language = form_text(form, "language", max_length=5) or page.ui_language
    room, key = await service.create_room(
        session,
        host=user,
        title=title,
        language=language if re.fullmatch(r"[a-z]{2}", language) else page.ui_language,
        starts_at=starts_at,
        cohosts=_lines(form_text(form, "cohosts", max_length=2000), max_items=service.MAX_COHOSTS + 1),
        product_ids=_ids(form_text(form, "product_ids", max_length=2000)),
    )
    return await _console(page, session, room, new_key=key, status=201)


@router.get("/live/hls/{name}")
async def hls_file(name: str, state: State) -> Response:
    """What nginx cut: playlists must never be cached, segments may."""
    if not HLS_FILE.match(name):
        raise NotFound("stream")
    path = media_paths(state.settings).hls / name
    if not path.is_file():
        raise NotFound("stream")
    playlist = name.endswith(".m3u8")
    return FileResponse(
        path,
        media_type="application/vnd.apple.mpegurl" if playlist else "video/mp2t",
        headers={"Cache-Control": "no-cache" if playlist else "public, max-age=60"},
    )


@router.get("/live/{room_ref}")
async def room_page(room_ref: str, page: PageContext, session: Session, state: State) -> Response:
    room = await service.get_room(session, path_id(room_ref, "room"))
    people = await service.members(session, room_id=room.id)
    return page.render(
        "live/room.html",
        room=room,
        host_name=await _host_name(session, room),
        cohosts=[u.display_name for u, role in people if role == MemberRole.cohost],
        cards=await _cards(page, session, await service.showcase(session, room_id=room.id)),
        status_label=page.gettext(STATUS_LABELS[room.status.value]),
        hls_url=hls_url(state.settings, room.id),
        ws_url=f"/api/v1/live/rooms/{room.id}/ws",
        max_length=MAX_LENGTH,
        is_host=page.user is not None and page.user.id == room.host_id,
        login_next=f"/live/{room.id}",
        **captions_room_context(page.request, room),
    )


async def _console(
    page: Page, session: AsyncSession, room: LiveRoom, *, new_key: str | None = None, status: int = 200
) -> Response:
    people = await service.members(session, room_id=room.id)
    product_ids = await service.showcase(session, room_id=room.id)
    values: dict[str, Any] = {
        "room": room,
        "new_key": new_key,
        "rtmp_url": rtmp_url(page.request.app.state.passerelle.settings, page.request),
        "cohosts": [u for u, role in people if role == MemberRole.cohost],
        "moderators": [u for u, role in people if role == MemberRole.moderator],
        "sanctions": [(u, kind.value) for u, kind in await service.sanctions(session, room_id=room.id)],
        "product_ids": ", ".join(str(p) for p in product_ids),
        "cards": await _cards(page, session, product_ids),
        "status_label": page.gettext(STATUS_LABELS[room.status.value]),
    }
    return page.render("live/host.html", status=status, **values, **captions_console_context(page.request, room))


async def _hosted(page: Page, session: AsyncSession, room_ref: str) -> LiveRoom:
    return await service.room_for_host(session, room_id=path_id(room_ref, "room"), actor=page.require_user())


@router.get("/live/{room_ref}/host")
async def host_console(room_ref: str, page: PageContext, session: Session) -> Response:
    return await _console(page, session, await _hosted(page, session, room_ref))


@router.post("/live/{room_ref}/host/key")
async def rotate_key(room_ref: str, page: PageContext, session: Session) -> Response:
    room = await _hosted(page, session, room_ref)
    return await _console(page, session, room, new_key=await service.rotate_key(session, room=room))


@router.post("/live/{room_ref}/host/end")
async def end_room(room_ref: str, page: PageContext, session: Session, state: State) -> Response:
    room = await _hosted(page, session, room_ref)
    await service.end_room(session, room=room, now=state.clock.now())
    publish_after_commit(session, state, room.id, status_event(room))
    after_commit(session, lambda: drop_publisher(state.settings, room.id))
    return _see_other(f"/live/{room.id}/host")


@router.post("/live/{room_ref}/host/showcase")
async def set_showcase(room_ref: str, page: PageContext, session: Session, state: State) -> Response:
    room = await _hosted(page, session, room_ref)
    form = await page.form()
    products = await service.set_showcase(
        session, room=room, product_ids=_ids(form_text(form, "product_ids", max_length=2000))
    )
    publish_after_commit(session, state, room.id, {"type": "showcase", "product_ids": products})
    return _see_other(f"/live/{room.id}/host")


@router.post("/live/{room_ref}/host/chat")
async def chat_settings(room_ref: str, page: PageContext, session: Session, state: State) -> Response:
    room = await _hosted(page, session, room_ref)
    form = await page.form()
    slow = form_text(form, "slow_mode_seconds", max_length=4)
    words = [w[:40] for w in _lines(form_text(form, "blocked_words", max_length=10_000), max_items=200)]
    await service.update_chat_settings(
        session, room=room, slow_mode_seconds=min(int(slow), 600) if slow.isdigit() else 0, blocked_words=words
    )
    await service.set_moderators(
        session,
        room=room,
        users=_lines(form_text(form, "moderators", max_length=5000), max_items=service.MAX_MODERATORS),
    )
    publish_after_commit(session, state, room.id, {"type": "_policy"})
    return _see_other(f"/live/{room.id}/host")


@router.post("/live/{room_ref}/host/sanctions/{user_ref}/lift")
async def lift_sanction(room_ref: str, user_ref: str, page: PageContext, session: Session, state: State) -> Response:
    room = await _hosted(page, session, room_ref)
    await service.lift_sanction(session, room=room, user_id=path_id(user_ref, "user"))
    publish_after_commit(session, state, room.id, {"type": "_policy"})
    return _see_other(f"/live/{room.id}/host")
