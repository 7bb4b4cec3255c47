"""The operator's review of fraud flags: release the hold (the flag was a false alarm) or confirm
the fraud (the held commissions go back to the merchant). A flag is closed once; the
commissions it held move with conditional updates, so two operators cannot both act."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.connect.models import Commission, Creator, FraudFlag
from passerelle.connect.service import commissions
from passerelle.errors import Conflict, NotFound

CREATOR_WIDE = "under_review"  # new commissions of a creator with an open flag


@dataclass(frozen=True)
class Held:
    """A held commission as the review page lists it."""

    commission: Commission
    handle: str


async def held_commissions(session: AsyncSession, *, limit: int = 200) -> list[Held]:
    rows = await session.execute(
        select(Commission, Creator.handle)
        .join(Creator, Creator.id == Commission.creator_id)
        .where(Commission.status == "held")
        .order_by(Commission.id.desc())
        .limit(limit)
    )
    return [Held(c, handle) for c, handle in rows.all()]


async def _held_by(session: AsyncSession, flag: FraudFlag) -> list[int]:
    """The held commissions this flag accounts for: a self-referral holds its order's commissions;
    any other flag holds the creator's commissions made while it was open."""
    if flag.creator_id is None:
        return []
    query = select(Commission.id).where(Commission.status == "held", Commission.creator_id == flag.creator_id)
    if flag.kind == "self_referral":
        query = query.where(
            Commission.order_id == int(flag.detail.get("order_id", 0)), Commission.hold_reason == flag.kind
        )
    else:
        query = query.where(Commission.hold_reason == CREATOR_WIDE)
    return list((await session.execute(query.order_by(Commission.id))).scalars())


async def resolve_flag(session: AsyncSession, *, flag_id: int, confirm: bool, now: datetime) -> int:
    """Close an open flag. Confirmed: its held commissions are voided. Cleared: they are released
    (for a creator-wide flag, only once no other flag of the creator is still open). Returns how
    many commissions moved."""
    flag = await session.get(FraudFlag, flag_id, populate_existing=True)
    if flag is None:
        raise NotFound("flag")
    closed = await session.execute(
        update(FraudFlag)
        .where(FraudFlag.id == flag_id, FraudFlag.status == "open")
        .values(status="confirmed" if confirm else "cleared")
        .execution_options(synchronize_session=False)
    )
    if closed.rowcount == 0:  # type: ignore[attr-defined]
        raise Conflict("flag_closed", "This flag was already reviewed")
    held = await _held_by(session, flag)
    if not confirm and flag.kind != "self_referral" and flag.creator_id is not None:
        still_open = await session.execute(
            select(FraudFlag.id).where(FraudFlag.creator_id == flag.creator_id, FraudFlag.status == "open").limit(1)
        )
        if still_open.first() is not None:
            return 0  # another open flag keeps the creator under review
    moved = 0
    for commission_id in held:
        if confirm:
            await commissions.void_held(session, commission_id=commission_id)
            moved += 1
        elif await commissions.release(session, commission_id=commission_id, now=now):
            moved += 1
    return moved
