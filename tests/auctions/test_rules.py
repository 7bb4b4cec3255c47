"""Proxy bidding and anti-sniping, against the rules alone and a brute-force model."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from passerelle.auctions import rules
from passerelle.auctions.rules import Book

START, END = 1000.0, 2000.0
SELLER = 99


def fresh(**changes: float) -> Book:
    values = {"starting_amount": 1000, "increment": 100, "price": 0, "leader_id": None, "leader_max": 0,
              "ends_at": END, "snipe_window": 30, "extend_seconds": 60} | changes  # fmt: skip
    return Book(**values)  # type: ignore[arg-type]


def bid(book: Book, bidder: int, amount: int, now: float = 1500) -> rules.Outcome:
    return rules.place(book, bidder_id=bidder, max_amount=amount, now=now, starts_at=START, seller_id=SELLER)


@pytest.mark.parametrize(
    ("steps", "price", "leader"),
    [
        ([(1, 1000)], 1000, 1),  # the first bid opens at the starting price, whatever its maximum
        ([(1, 5000)], 1000, 1),
        ([(1, 5000), (2, 2000)], 2100, 1),  # the leader's proxy answers one increment above
        ([(1, 5000), (2, 4950)], 5000, 1),  # ...capped by the leader's own maximum
        ([(1, 5000), (2, 6000)], 5100, 2),  # a higher maximum leads, one increment above the old one
        ([(1, 5000), (2, 5050)], 5050, 2),  # ...or at its own maximum when that is less
        ([(1, 5000), (2, 5000)], 5000, 1),  # equal maximums: the earlier bid keeps the lead
        ([(1, 2000), (1, 9000)], 1000, 1),  # raising one's own maximum does not move the price
        ([(1, 2000), (2, 3000), (3, 2500)], 2600, 2),
    ],
)
def test_given_bids_then_price_and_leader_follow_proxy_bidding(
    steps: list[tuple[int, int]], price: int, leader: int
) -> None:
    book = fresh()
    for bidder, amount in steps:
        outcome = bid(book, bidder, amount)
        assert outcome.accepted, outcome.code
        book = outcome.book
    assert (book.price, book.leader_id) == (price, leader)


def test_given_refused_bids_then_stable_codes() -> None:
    book = bid(fresh(), 1, 2000).book
    assert bid(book, 2, 1050).code == rules.TOO_LOW  # under price + increment
    assert bid(fresh(), 1, 999).code == rules.TOO_LOW  # under the starting price
    assert bid(book, SELLER, 5000).code == rules.OWN_AUCTION
    assert bid(book, 2, 5000, now=END).code == rules.NOT_RUNNING
    assert bid(book, 2, 5000, now=START - 1).code == rules.NOT_RUNNING


def test_given_a_bid_in_the_last_seconds_then_the_end_moves_back() -> None:
    early = bid(fresh(), 1, 2000, now=END - 31)
    assert not early.extended and early.book.ends_at == END
    late = bid(early.book, 2, 3000, now=END - 5)
    assert late.extended and late.book.ends_at == END - 5 + 60
    # Another last-second bid keeps pushing: nobody can snipe.
    again = bid(late.book, 1, 9000, now=late.book.ends_at - 1)
    assert again.extended and again.book.ends_at == late.book.ends_at - 1 + 60


def model(maxima: list[tuple[int, int]]) -> tuple[int | None, int, int]:
    """Brute force over accepted bids: the highest maximum leads (earliest to reach it on
    ties). Returns (leader, leader's maximum, runner-up's maximum or 0)."""
    best: dict[int, int] = {}
    first_seen: dict[int, int] = {}
    for index, (bidder, amount) in enumerate(maxima):
        best[bidder] = max(best.get(bidder, 0), amount)
        first_seen.setdefault(bidder, index)
    if not best:
        return None, 0, 0
    reached = {b: next(i for i, (x, a) in enumerate(maxima) if x == b and a == best[b]) for b in best}
    leader = min(best, key=lambda b: (-best[b], reached[b]))
    return leader, best[leader], max((best[b] for b in best if b != leader), default=0)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 4), st.integers(900, 6000)), max_size=25))
def test_given_random_bids_then_the_book_matches_a_brute_force_model(attempts: list[tuple[int, int]]) -> None:
    book = fresh()
    accepted: list[tuple[int, int]] = []
    for bidder, amount in attempts:
        outcome = bid(book, bidder, amount)
        if outcome.accepted:
            accepted.append((bidder, amount))
            book = outcome.book
            assert book.starting_amount <= book.price <= book.leader_max  # never above what the leader allowed
    leader, leader_max, runner_up = model(accepted)
    assert (book.leader_id, book.leader_max) == (leader, leader_max)
    if leader is not None:
        # The leader pays at least what the runner-up offered, and never more than one
        # increment above it (a leader raising their own maximum does not move the price).
        assert max(runner_up, 1000) <= book.price <= max(1000, min(leader_max, runner_up + 100))
