"""Live rooms: scheduling, the stream key, the showcase, chat settings and sanctions.

Module functions with keyword-only arguments; they never commit (the request does).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.accounts.models import User
from passerelle.accounts.service import normalise_email
from passerelle.catalog.models import Product, ProductStatus
from passerelle.errors import Conflict, DomainError, Invalid, NotFound
from passerelle.live.commerce_models import AIR_EVENT, LiveEvent
from passerelle.live.media import room_of_stream, stream_name
from passerelle.live.models import (
    LiveChatMessage,
    LiveRoom,
    LiveRoomMember,
    LiveSanction,
    LiveShowcaseItem,
    MemberRole,
    RoomStatus,
    SanctionKind,
)

MAX_COHOSTS = 4
MAX_SHOWCASE = 100
MAX_MODERATORS = 20
HISTORY = 50


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def stream_key(room_id: int, secret: str) -> str:
    """What the host pastes into OBS: nginx takes `room-<id>` as the name, `key` as an argument."""
    return f"{stream_name(room_id)}?key={secret}"


class NotRoomHost(DomainError):
    status_code = 403

    def __init__(self) -> None:
        super().__init__("not_room_host", "Only the host of this room may do this")


async def _users(session: AsyncSession, refs: Sequence[int | str], *, field: str) -> list[User]:
    """Users by id or e-mail, in the order given, without duplicates."""
    found: list[User] = []
    for ref in refs:
        if isinstance(ref, int):
            user = await session.get(User, ref)
        else:
            user = (await session.execute(select(User).where(User.email == normalise_email(ref)))).scalar_one_or_none()
        if user is None or not user.is_active:
            raise Invalid("unknown_user", f"No account matches {ref}", field=field)
        if all(u.id != user.id for u in found):
            found.append(user)
    return found


async def _check_products(session: AsyncSession, product_ids: Sequence[int]) -> list[int]:
    wanted = list(dict.fromkeys(product_ids))
    if len(wanted) > MAX_SHOWCASE:
        raise Invalid("showcase_too_large", f"A showcase holds at most {MAX_SHOWCASE} products", field="product_ids")
    if not wanted:
        return []
    active = set(
        (
            await session.execute(
                select(Product.id).where(Product.id.in_(wanted), Product.status == ProductStatus.published)
            )
        ).scalars()
    )
    missing = [p for p in wanted if p not in active]
    if missing:
        raise Invalid("unknown_product", f"Product {missing[0]} does not exist or is not on sale", field="product_ids")
    return wanted


async def create_room(
    session: AsyncSession,
    *,
    host: User,
    title: str,
    language: str,
    starts_at: datetime,
    cohosts: Sequence[int | str] = (),
    product_ids: Sequence[int] = (),
) -> tuple[LiveRoom, str]:
    """A scheduled room and its stream key (shown once: only its hash is kept)."""
    if len(cohosts) > MAX_COHOSTS:
        raise Invalid("too_many_cohosts", f"At most {MAX_COHOSTS} co-hosts", field="cohosts")
    people = [u for u in await _users(session, cohosts, field="cohosts") if u.id != host.id]
    products = await _check_products(session, product_ids)
    secret = secrets.token_urlsafe(24)
    room = LiveRoom(
        host_id=host.id,
        title=title,
        language=language,
        starts_at=starts_at,
        status=RoomStatus.scheduled,
        stream_key_hash=_hash(secret),
        on_air=False,
        slow_mode_seconds=0,
        blocked_words=[],
    )
    session.add(room)
    await session.flush()
    session.add_all(LiveRoomMember(room_id=room.id, user_id=u.id, role=MemberRole.cohost) for u in people)
    session.add_all(LiveShowcaseItem(room_id=room.id, product_id=p, position=i) for i, p in enumerate(products))
    await session.flush()
    return room, stream_key(room.id, secret)


async def get_room(session: AsyncSession, room_id: int) -> LiveRoom:
    room = await session.get(LiveRoom, room_id)
    if room is None:
        raise NotFound("room")
    return room


async def room_for_host(session: AsyncSession, *, room_id: int, actor: User) -> LiveRoom:
    room = await get_room(session, room_id)
    if room.host_id != actor.id:
        raise NotRoomHost()
    return room


def _open(room: LiveRoom) -> None:
    if room.status == RoomStatus.ended:
        raise Conflict("room_ended", "This room has ended")


async def list_rooms(session: AsyncSession, *, statuses: Sequence[RoomStatus], limit: int = 50) -> list[LiveRoom]:
    query = (
        select(LiveRoom)
        .where(LiveRoom.status.in_(list(statuses)))
        .order_by(LiveRoom.on_air.desc(), LiveRoom.starts_at, LiveRoom.id)
        .limit(limit)
    )
    return list((await session.execute(query)).scalars())


async def showcase(session: AsyncSession, *, room_id: int) -> list[int]:
    query = select(LiveShowcaseItem.product_id).where(LiveShowcaseItem.room_id == room_id)
    return list((await session.execute(query.order_by(LiveShowcaseItem.position))).scalars())


async def set_showcase(session: AsyncSession, *, room: LiveRoom, product_ids: Sequence[int]) -> list[int]:
    products = await _check_products(session, product_ids)
    await session.execute(delete(LiveShowcaseItem).where(LiveShowcaseItem.room_id == room.id))
    session.add_all(LiveShowcaseItem(room_id=room.id, product_id=p, position=i) for i, p in enumerate(products))
    await session.flush()
    return products


async def members(session: AsyncSession, *, room_id: int) -> list[tuple[User, MemberRole]]:
    rows = await session.execute(
        select(User, LiveRoomMember.role)
        .join(LiveRoomMember, LiveRoomMember.user_id == User.id)
        .where(LiveRoomMember.room_id == room_id)
        .order_by(LiveRoomMember.role, User.id)
    )
    return [(user, role) for user, role in rows.all()]


async def set_moderators(session: AsyncSession, *, room: LiveRoom, users: Sequence[int | str]) -> list[User]:
    if len(users) > MAX_MODERATORS:
        raise Invalid("too_many_moderators", f"At most {MAX_MODERATORS} moderators", field="users")
    chosen = [u for u in await _users(session, users, field="users") if u.id != room.host_id]
    await session.execute(
        delete(LiveRoomMember).where(LiveRoomMember.room_id == room.id, LiveRoomMember.role == MemberRole.moderator)
    )
    cohosts = {u.id for u, role in await members(session, room_id=room.id) if role == MemberRole.cohost}
    session.add_all(
        LiveRoomMember(room_id=room.id, user_id=u.id, role=MemberRole.moderator) for u in chosen if u.id not in cohosts
    )
    await session.flush()
    return chosen


async def rotate_key(session: AsyncSession, *, room: LiveRoom) -> str:
    _open(room)
    secret = secrets.token_urlsafe(24)
    room.stream_key_hash = _hash(secret)
    await session.flush()
    return stream_key(room.id, secret)


async def end_room(session: AsyncSession, *, room: LiveRoom, now: datetime) -> LiveRoom:
    if room.status != RoomStatus.ended:
        room.status = RoomStatus.ended
        room.on_air = False
        room.ended_at = now
        await session.flush()
    return room


async def update_chat_settings(
    session: AsyncSession, *, room: LiveRoom, slow_mode_seconds: int, blocked_words: Sequence[str]
) -> LiveRoom:
    room.slow_mode_seconds = slow_mode_seconds
    room.blocked_words = sorted({w.strip().casefold() for w in blocked_words if w.strip()})
    await session.flush()
    return room


async def is_moderator(session: AsyncSession, *, room: LiveRoom, user_id: int) -> bool:
    if user_id == room.host_id:
        return True
    found = await session.get(LiveRoomMember, (room.id, user_id))
    return found is not None


async def sanction(session: AsyncSession, *, room: LiveRoom, actor: User, user_id: int, kind: SanctionKind) -> None:
    """Mute or ban a viewer. Host, co-hosts and moderators may; nobody sanctions a moderator."""
    if not await is_moderator(session, room=room, user_id=actor.id):
        raise DomainError("not_room_moderator", "Only the room's moderators may do this", status=403)
    if await is_moderator(session, room=room, user_id=user_id):
        raise DomainError("cannot_sanction_moderator", "Moderators cannot be muted or banned", status=409)
    if await session.get(User, user_id) is None:
        raise NotFound("user")
    existing = await session.get(LiveSanction, (room.id, user_id))
    if existing is None:
        session.add(LiveSanction(room_id=room.id, user_id=user_id, kind=kind))
    elif kind == SanctionKind.ban:
        existing.kind = kind  # a ban overrides a mute, never the other way round
    await session.flush()


async def lift_sanction(session: AsyncSession, *, room: LiveRoom, user_id: int) -> None:
    await session.execute(delete(LiveSanction).where(LiveSanction.room_id == room.id, LiveSanction.user_id == user_id))


async def sanctions(session: AsyncSession, *, room_id: int) -> list[tuple[User, SanctionKind]]:
    rows = await session.execute(
        select(User, LiveSanction.kind)
        .join(LiveSanction, LiveSanction.user_id == User.id)
        .where(LiveSanction.room_id == room_id)
        .order_by(LiveSanction.created_at)
    )
    return [(user, kind) for user, kind in rows.all()]


# --- the media server's callbacks ---------------------------------------------------------


async def start_publishing(session: AsyncSession, *, name: str, key: str, now: datetime) -> LiveRoom | None:
    """nginx asks whether `name`/`key` may publish: the room when yes, None when not."""
    room_id = room_of_stream(name)
    room = await session.get(LiveRoom, room_id) if room_id is not None else None
    # Compared in constant time, and the same work whether the room exists or not.
    expected = room.stream_key_hash if room is not None else _hash("no room")
    if not hmac.compare_digest(expected, _hash(key)) or room is None or room.status == RoomStatus.ended:
        return None
    room.status = RoomStatus.live
    room.on_air = True
    if room.went_live_at is None:
        room.went_live_at = now
    _log_air(session, room, now, on=True)
    await session.flush()
    return room


async def stop_publishing(session: AsyncSession, *, name: str, now: datetime) -> LiveRoom | None:
    """The encoder stopped: the room is off air (it stays live; the host may resume or end it)."""
    room_id = room_of_stream(name)
    room = await session.get(LiveRoom, room_id) if room_id is not None else None
    if room is None:
        return None
    room.on_air = False
    _log_air(session, room, now, on=False)
    await session.flush()
    return room


def _log_air(session: AsyncSession, room: LiveRoom, now: datetime, *, on: bool) -> None:
    # The recording only holds on-air time: the replay maps events to it (commerce.air_clock).
    wall_ms = max(0, int((now - (room.went_live_at or now)).total_seconds() * 1000))
    session.add(LiveEvent(room_id=room.id, offset_ms=wall_ms, at=now, payload={"type": AIR_EVENT, "on": on}))


# --- what the chat hub reads ----------------------------------------------------------------


@dataclass(frozen=True)
class ChatPolicy:
    """What the hub checks each message against; reloaded when the host changes it."""

    room_id: int
    host_id: int
    status: RoomStatus
    moderators: frozenset[int]
    muted: frozenset[int]
    banned: frozenset[int]
    blocked_words: tuple[str, ...]
    slow_mode_seconds: int

    def may_moderate(self, user_id: int) -> bool:
        return user_id == self.host_id or user_id in self.moderators


async def chat_policy(session: AsyncSession, *, room_id: int) -> ChatPolicy | None:
    room = await session.get(LiveRoom, room_id)
    if room is None:
        return None
    member_ids = set(
        (await session.execute(select(LiveRoomMember.user_id).where(LiveRoomMember.room_id == room_id))).scalars()
    )
    rows = (
        await session.execute(select(LiveSanction.user_id, LiveSanction.kind).where(LiveSanction.room_id == room_id))
    ).all()
    muted: set[int] = set()
    banned: set[int] = set()
    for user_id, kind in rows:
        (banned if kind == SanctionKind.ban else muted).add(user_id)
    return ChatPolicy(
        room_id=room.id,
        host_id=room.host_id,
        status=room.status,
        moderators=frozenset(member_ids),
        muted=frozenset(muted),
        banned=frozenset(banned),
        blocked_words=tuple(room.blocked_words or ()),
        slow_mode_seconds=room.slow_mode_seconds,
    )


async def recent_messages(session: AsyncSession, *, room_id: int, limit: int = HISTORY) -> list[LiveChatMessage]:
    query = (
        select(LiveChatMessage)
        .where(LiveChatMessage.room_id == room_id)
        .order_by(LiveChatMessage.id.desc())
        .limit(limit)
    )
    return list(reversed(list((await session.execute(query)).scalars())))


async def count_messages(session: AsyncSession, *, room_id: int) -> int:
    query = select(func.count()).select_from(LiveChatMessage).where(LiveChatMessage.room_id == room_id)
    return int((await session.execute(query)).scalar_one())
