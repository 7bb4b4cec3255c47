"""The pure rules, table-driven: who is credited, by which rule, and splits that sum exactly."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from passerelle.connect import rules
from passerelle.connect.rules import CodeUse, Room, Touch

DAY = 86400
PAID = 100 * DAY
WINDOW = 30 * DAY


def touch(creator: int, days_before: float, *, merchant: int | None = 1, window: int = WINDOW) -> Touch:
    return Touch(creator, creator * 10, None, merchant, PAID - days_before * DAY, window)


CASES = [
    # (name, touches, code, room, mode, expected rule, expected shares)
    ("no click, nobody", [], None, None, "last", None, None),
    ("last click wins", [touch(1, 5), touch(2, 1)], None, None, "last", "last_click", ((2, 10000),)),
    ("first-click mode", [touch(1, 5), touch(2, 1)], None, None, "first", "first_click", ((1, 10000),)),
    ("window edge: exactly 30 days counts", [touch(1, 30)], None, None, "last", "last_click", ((1, 10000),)),
    ("window edge: a second more does not", [touch(1, 30 + 1 / DAY)], None, None, "last", None, None),
    ("per-campaign window", [touch(1, 10, window=7 * DAY), touch(2, 20)], None, None, "last", "last_click", ((2, 10000),)),
    ("click after payment ignored", [touch(1, -1)], None, None, "last", None, None),
    ("other merchant's link ignored", [touch(1, 1, merchant=2), touch(3, 3)], None, None, "last", "last_click", ((3, 10000),)),
    ("live-room link counts for any merchant", [touch(4, 1, merchant=None)], None, None, "last", "last_click", ((4, 10000),)),
    ("promo code beats the cookie", [touch(1, 1)], CodeUse(9, None, "ANNA10"), None, "last", "promo_code", ((9, 10000),)),
    (
        "live room: host and co-hosts",
        [touch(1, 1)],
        None,
        Room(7, 5, ((6, 2500), (8, 1000))),
        "last",
        "live_room",
        ((5, 6500), (6, 2500), (8, 1000)),
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "touches", "code", "room", "mode", "rule", "shares"), CASES, ids=[c[0] for c in CASES]
)
def test_attribution_table(
    name: str,
    touches: list[Touch],
    code: CodeUse | None,
    room: Room | None,
    mode: str,
    rule: str | None,
    shares: tuple[tuple[int, int], ...] | None,
) -> None:
    decision = rules.attribute(paid_at=PAID, merchant_id=1, touches=touches, code=code, room=room, mode=mode)
    if rule is None:
        assert decision is None
    else:
        assert decision is not None and (decision.rule, decision.shares) == (rule, shares)


SPLITS = [
    (1000, [(5, 6500), (6, 2500), (8, 1000)], [650, 250, 100]),
    (1001, [(5, 3334), (6, 3333), (8, 3333)], [334, 334, 333]),  # remainder to the largest fraction, then order
    (1, [(5, 5000), (6, 5000)], [1, 0]),
    (7, [(5, 3333), (6, 3333), (8, 3334)], [2, 2, 3]),
    (0, [(5, 10000)], [0]),
]


@pytest.mark.parametrize(("amount", "shares", "parts"), SPLITS)
def test_split_table(amount: int, shares: list[tuple[int, int]], parts: list[int]) -> None:
    assert rules.split(amount, shares) == parts


@given(
    amount=st.integers(min_value=0, max_value=10**12),
    cohosts=st.lists(st.integers(min_value=0, max_value=2000), max_size=5),
)
def test_given_any_live_room_split_then_parts_sum_exactly_and_are_deterministic(
    amount: int, cohosts: list[int]
) -> None:
    shares = rules.room_shares(Room(1, 100, tuple((i + 101, bp) for i, bp in enumerate(cohosts))))
    parts = rules.split(amount, shares)
    assert sum(parts) == amount and all(p >= 0 for p in parts)
    assert parts == rules.split(amount, shares)


def test_given_cohost_shares_over_the_whole_then_refused() -> None:
    with pytest.raises(ValueError):
        rules.room_shares(Room(1, 1, ((2, 6000), (3, 5000))))


def test_tier_from_published_rules() -> None:
    tiers = [rules.Tier("nano", 1, 1000, 10), rules.Tier("micro", 2, 10_000, 50)]
    assert rules.tier_for(followers=50_000, posts=20, rules=tiers) == "nano"
    assert rules.tier_for(followers=50_000, posts=60, rules=tiers) == "micro"
    assert rules.tier_for(followers=10, posts=60, rules=tiers) == ""


def rate(scope: str, scope_id: int, bp: int, prev: int | None = None, changed: float = 0.0) -> rules.RateRule:
    return rules.RateRule(1, scope, scope_id, bp, prev, changed)


def test_most_specific_rate_wins_and_targeted_beats_open_when_higher() -> None:
    table = [rate("store", 0, 500), rate("category", 3, 800), rate("product", 42, 1200)]

    def resolve(product: int, category: int | None, targeted: dict[int, int] | None = None) -> int:
        found = rules.resolve_rate(
            rules=table, product_id=product, category_id=category, joined={}, targeted=targeted or {}, at=0, notice_s=0
        )
        return found[0]

    assert resolve(42, 3) == 1200
    assert resolve(7, 3) == 800
    assert resolve(7, None) == 500
    assert resolve(7, None, {2: 2000}) == 2000
    assert resolve(42, 3, {2: 1000}) == 1200


def test_a_rate_cut_reaches_existing_members_only_after_the_notice() -> None:
    cut = rate("store", 0, 500, prev=1000, changed=10 * DAY)
    notice = 30 * DAY
    assert rules.effective_rate(cut, joined_at=1 * DAY, at=20 * DAY, notice_s=notice) == 1000
    assert rules.effective_rate(cut, joined_at=1 * DAY, at=40 * DAY, notice_s=notice) == 500
    assert rules.effective_rate(cut, joined_at=11 * DAY, at=20 * DAY, notice_s=notice) == 500  # joined after the cut
    assert rules.effective_rate(cut, joined_at=None, at=20 * DAY, notice_s=notice) == 500  # not a member
    rise = rate("store", 0, 1500, prev=1000, changed=10 * DAY)
    assert rules.effective_rate(rise, joined_at=1 * DAY, at=11 * DAY, notice_s=notice) == 1500
