"""The program's rules as pure functions (no I/O): tiers, attribution, splits, rates.

Attribution order, first match wins: a creator's promo code used at checkout, then the live
room the line was bought from, then the clicks of the buyer's visitor id (last click within
its campaign's window, or first click when the merchant chose that mode).

Live-room shape, written on the order line's `attribution` JSON by the live-room team:
    {"room_id": 7, "host_id": <user id>, "cohosts": [{"user_id": <user id>, "share_bp": 2500}]}
Co-hosts get their `share_bp` (basis points of the line's commission), the host the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

FULL_BP = 10_000


@dataclass(frozen=True, slots=True)
class Tier:
    tier: str
    rank: int
    min_followers: int
    min_posts: int


def tier_for(*, followers: int, posts: int, rules: Sequence[Tier]) -> str:
    """The best-ranked tier whose minimums are met ("" when none is)."""
    met = [r for r in rules if followers >= r.min_followers and posts >= r.min_posts]
    return max(met, key=lambda r: r.rank).tier if met else ""


@dataclass(frozen=True, slots=True)
class Touch:
    """One counted click of the buyer's visitor id."""

    creator_id: int
    link_id: int
    campaign_id: int | None
    merchant_id: int | None  # the merchant the link points into (None: any, e.g. a live room)
    at: float  # epoch seconds
    window_s: int  # its campaign's attribution window


@dataclass(frozen=True, slots=True)
class CodeUse:
    creator_id: int
    campaign_id: int | None
    code: str


@dataclass(frozen=True, slots=True)
class Room:
    room_id: int
    host_creator_id: int
    cohosts: tuple[tuple[int, int], ...]  # (creator_id, share_bp)


class Decision(NamedTuple):  # a NamedTuple: built once per order on the hot path, cheaper than a frozen dataclass
    rule: str  # promo_code | live_room | last_click | first_click
    shares: tuple[tuple[int, int], ...]  # (creator_id, share_bp), summing to FULL_BP
    campaign_id: int | None
    link_id: int | None = None
    room_id: int | None = None


def attribute(
    *,
    paid_at: float,
    merchant_id: int,
    touches: Sequence[Touch],
    code: CodeUse | None = None,
    room: Room | None = None,
    mode: str = "last",
) -> Decision | None:
    """Who is credited for a line paid at `paid_at`, and by which rule (None: nobody)."""
    if code is not None:
        return Decision("promo_code", ((code.creator_id, FULL_BP),), code.campaign_id)
    if room is not None:
        return Decision("live_room", room_shares(room), None, room_id=room.room_id)
    best: Touch | None = None
    best_at = 0.0
    latest = mode != "first"
    for t in touches:  # the hot loop of `bench attribution`: locals only
        at = t.at
        if at > paid_at or paid_at - at > t.window_s:
            continue
        if t.merchant_id is not None and t.merchant_id != merchant_id:
            continue
        if best is None or (at > best_at if latest else at < best_at):
            best, best_at = t, at
    if best is None:
        return None
    rule = "first_click" if mode == "first" else "last_click"
    return Decision(rule, ((best.creator_id, FULL_BP),), best.campaign_id, link_id=best.link_id)


def room_shares(room: Room) -> tuple[tuple[int, int], ...]:
    """Host first, then co-hosts in the order the host listed them; shares sum to FULL_BP."""
    given = sum(bp for _, bp in room.cohosts)
    if given > FULL_BP or any(bp < 0 for _, bp in room.cohosts):
        raise ValueError("co-host shares exceed the whole")
    return ((room.host_creator_id, FULL_BP - given), *room.cohosts)


def split(amount: int, shares: Sequence[tuple[int, int]]) -> list[int]:
    """`amount` split by basis points: floors, then the remainder one unit at a time to the
    largest fractional parts (earlier share first on ties). Always sums to `amount`."""
    parts = [amount * bp // FULL_BP for _, bp in shares]
    remainder = amount - sum(parts)
    order = sorted(range(len(shares)), key=lambda i: (-(amount * shares[i][1] % FULL_BP), i))
    for i in order[:remainder]:
        parts[i] += 1
    return parts


def commission(base: int, rate_bp: int) -> int:
    """Floor of base x rate: the creator never gets a fraction of a minor unit more than earned."""
    return base * rate_bp // FULL_BP


@dataclass(frozen=True, slots=True)
class RateRule:
    campaign_id: int
    scope: str  # store | category | product
    scope_id: int
    rate_bp: int
    previous_rate_bp: int | None
    changed_at: float


SPECIFICITY = {"product": 3, "category": 2, "store": 1}


def effective_rate(rule: RateRule, *, joined_at: float | None, at: float, notice_s: int) -> int:
    """A cut reaches a creator who joined before it only once the notice period is over."""
    cut = rule.previous_rate_bp is not None and rule.rate_bp < rule.previous_rate_bp
    if cut and joined_at is not None and joined_at < rule.changed_at and at < rule.changed_at + notice_s:
        assert rule.previous_rate_bp is not None
        return rule.previous_rate_bp
    return rule.rate_bp


def resolve_rate(
    *,
    rules: Sequence[RateRule],
    product_id: int,
    category_id: int | None,
    joined: dict[int, float],
    targeted: dict[int, int],
    at: float,
    notice_s: int,
) -> tuple[int, int | None, str]:
    """(rate_bp, campaign_id, scope): the most specific open rule wins; a targeted collaboration's
    own rate wins when higher. `joined` maps campaign -> join time, `targeted` campaign -> rate."""
    best: RateRule | None = None
    for r in rules:
        applies = (
            r.scope == "store"
            or (r.scope == "product" and r.scope_id == product_id)
            or (r.scope == "category" and category_id is not None and r.scope_id == category_id)
        )
        if applies and (best is None or SPECIFICITY[r.scope] > SPECIFICITY[best.scope]):
            best = r
    rate, campaign_id, scope = 0, None, ""
    if best is not None:
        rate = effective_rate(best, joined_at=joined.get(best.campaign_id), at=at, notice_s=notice_s)
        campaign_id, scope = best.campaign_id, best.scope
    for cid, targeted_rate in sorted(targeted.items()):
        if targeted_rate > rate:
            rate, campaign_id, scope = targeted_rate, cid, "targeted"
    return rate, campaign_id, scope
