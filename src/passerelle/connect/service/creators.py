"""Creator applications, tiers from the operator's entry rules, bulk review, payout details."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from schwifty import IBAN
from schwifty.exceptions import SchwiftyException
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.accounts.models import User
from passerelle.connect import rules
from passerelle.connect.features import CATEGORIES, category_mask
from passerelle.connect.models import Creator, TierRule
from passerelle.errors import Conflict, Invalid, NotFound

HANDLE = re.compile(r"^[a-z0-9][a-z0-9_.-]{2,39}$")
RESERVED = frozenset({"apply", "me", "by-handle", "admin", "operator"})
NETWORKS = frozenset({"instagram", "tiktok", "youtube", "twitch", "blog", "x", "facebook", "other"})
DEFAULT_TIERS = (
    rules.Tier("nano", 1, 1_000, 10),
    rules.Tier("micro", 2, 10_000, 50),
    rules.Tier("macro", 3, 100_000, 100),
)


async def tier_rules(session: AsyncSession) -> list[rules.Tier]:
    rows = (await session.execute(select(TierRule).order_by(TierRule.rank))).scalars().all()
    if not rows:
        return list(DEFAULT_TIERS)
    return [rules.Tier(r.tier, r.rank, r.min_followers, r.min_posts) for r in rows]


async def set_tier_rules(session: AsyncSession, *, tiers: Sequence[rules.Tier]) -> None:
    """Replace the published entry rules (operator only; checked by the route)."""
    if len({t.tier for t in tiers}) != len(tiers):
        raise Invalid("duplicate_tier", "Each tier appears once", field="tiers")
    await session.execute(delete(TierRule))
    for t in tiers:
        session.add(TierRule(tier=t.tier, rank=t.rank, min_followers=t.min_followers, min_posts=t.min_posts))
    await session.flush()


def _clean_channels(channels: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    cleaned = []
    for c in channels[:10]:
        network = str(c.get("network", "")).lower()
        followers = int(c.get("followers", 0))
        if network not in NETWORKS or followers < 0:
            raise Invalid("invalid_channel", "Unknown network or negative follower count", field="channels")
        cleaned.append({"network": network, "url": str(c.get("url", ""))[:200], "followers": followers})
    if not cleaned:
        raise Invalid("no_channel", "Give at least one channel", field="channels")
    return cleaned


async def apply(
    session: AsyncSession,
    *,
    user: User,
    handle: str,
    display_name: str,
    channels: Sequence[dict[str, Any]],
    posts: int,
    countries: Sequence[str],
    languages: Sequence[str],
    categories: Sequence[str],
    bio: str = "",
) -> Creator:
    handle = handle.strip().lower()
    if not HANDLE.match(handle) or handle in RESERVED:
        raise Invalid("invalid_handle", "3-40 lowercase letters, digits, dots, dashes or underscores", field="handle")
    if (await session.execute(select(Creator.id).where(Creator.user_id == user.id))).first():
        raise Conflict("already_applied", "You have already applied")
    if (await session.execute(select(Creator.id).where(Creator.handle == handle))).first():
        raise Conflict("handle_taken", "This handle is taken", field="handle")
    unknown = [c for c in categories if c not in CATEGORIES]
    if unknown:
        raise Invalid("unknown_category", f"Unknown category: {unknown[0]}", field="categories")
    clean = _clean_channels(channels)
    followers = sum(c["followers"] for c in clean)
    creator = Creator(
        user_id=user.id,
        handle=handle,
        display_name=display_name.strip()[:80] or handle,
        bio=bio.strip()[:500],
        status="applied",
        tier=rules.tier_for(followers=followers, posts=posts, rules=await tier_rules(session)),
        channels=clean,
        followers=followers,
        posts=max(0, posts),
        countries=[c.upper()[:2] for c in countries][:20],
        languages=[lang.lower()[:8] for lang in languages][:10],
        categories=list(dict.fromkeys(categories))[:10],
        category_mask=category_mask(categories),
        main_country=(countries[0].upper()[:2] if countries else ""),
        main_language=(languages[0].lower()[:8] if languages else ""),
    )
    session.add(creator)
    await session.flush()
    return creator


async def review(session: AsyncSession, *, creator_ids: Sequence[int], approve: bool) -> int:
    """Approve or reject applications in bulk; only pending ones move. Returns how many moved."""
    result = await session.execute(
        update(Creator)
        .where(Creator.id.in_(list(creator_ids)), Creator.status == "applied")
        .values(status="approved" if approve else "rejected")
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def of_user(session: AsyncSession, *, user_id: int) -> Creator | None:
    found = await session.execute(select(Creator).where(Creator.user_id == user_id))
    return found.scalar_one_or_none()


async def require_creator(session: AsyncSession, *, user: User, approved: bool = True) -> Creator:
    creator = await of_user(session, user_id=user.id)
    if creator is None:
        raise NotFound("creator")
    if approved and creator.status != "approved":
        raise Conflict("creator_not_approved", "Your creator application is not approved yet")
    return creator


async def by_handle(session: AsyncSession, *, handle: str) -> Creator:
    found = await session.execute(select(Creator).where(Creator.handle == handle.lower(), Creator.status == "approved"))
    creator = found.scalar_one_or_none()
    if creator is None:
        raise NotFound("creator")
    return creator


async def pending(session: AsyncSession, *, limit: int = 200) -> list[Creator]:
    rows = await session.execute(select(Creator).where(Creator.status == "applied").order_by(Creator.id).limit(limit))
    return list(rows.scalars())


def validate_iban(value: str) -> str:
    try:
        return str(IBAN(value).compact)
    except SchwiftyException as error:
        raise Invalid("invalid_iban", "This IBAN is not valid", field="iban") from error


async def set_payout_details(session: AsyncSession, *, creator: Creator, iban: str, holder: str) -> None:
    holder = holder.strip()
    if not 2 <= len(holder) <= 70:
        raise Invalid("invalid_holder", "Give the account holder's name", field="account_holder")
    creator.iban = validate_iban(iban)
    creator.account_holder = holder
    await session.flush()
