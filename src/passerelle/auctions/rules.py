"""Bidding rules, pure (no I/O), so they can be tested exhaustively.

Proxy bidding as buyers know it from the big auction sites: a bidder says the most they
will pay (their maximum); the system bids for them, one increment at a time, only as far
as needed to stay ahead. So the price shown is the second-highest maximum plus one
increment, capped by the leader's maximum. At equal maximums the earlier bid leads.

Anti-sniping: a bid that lands in the last `snipe_window` seconds pushes the end to
`extend_seconds` after it, so nobody wins by bidding one second before the close.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

ACCEPTED = "accepted"
TOO_LOW = "bid_too_low"
NOT_RUNNING = "auction_not_running"
OWN_AUCTION = "own_auction"


@dataclass(frozen=True, slots=True)
class Book:
    """What decides the next bid: the public price, and the leader's secret maximum."""

    starting_amount: int
    increment: int
    price: int  # what the leader pays if the auction ended now (0 before the first bid)
    leader_id: int | None
    leader_max: int
    ends_at: float  # unix seconds
    snipe_window: float
    extend_seconds: float
    bids: int = 0


@dataclass(frozen=True, slots=True)
class Outcome:
    code: str
    book: Book
    extended: bool = False

    @property
    def accepted(self) -> bool:
        return self.code == ACCEPTED


def minimum_bid(book: Book) -> int:
    """The least a new maximum must be to count."""
    return book.starting_amount if book.leader_id is None else book.price + book.increment


def place(book: Book, *, bidder_id: int, max_amount: int, now: float, starts_at: float, seller_id: int) -> Outcome:
    if not starts_at <= now < book.ends_at:
        return Outcome(NOT_RUNNING, book)
    if bidder_id == seller_id:
        return Outcome(OWN_AUCTION, book)
    if bidder_id == book.leader_id:
        # The leader raises their own maximum: the price does not move (no bidding against oneself).
        if max_amount <= book.leader_max:
            return Outcome(TOO_LOW, book)
        return _with_time(replace(book, leader_max=max_amount, bids=book.bids + 1), now)
    if max_amount < minimum_bid(book):
        return Outcome(TOO_LOW, book)
    if book.leader_id is None:
        opened = replace(book, price=book.starting_amount, leader_id=bidder_id, leader_max=max_amount, bids=1)
        return _with_time(opened, now)
    if max_amount > book.leader_max:
        # The newcomer leads, at one increment above the old leader's maximum (or their own maximum).
        price = min(max_amount, book.leader_max + book.increment)
        moved = replace(book, price=price, leader_id=bidder_id, leader_max=max_amount, bids=book.bids + 1)
        return _with_time(moved, now)
    # The leader's maximum answers: the price rises to just above the newcomer's maximum.
    price = min(book.leader_max, max_amount + book.increment)
    return _with_time(replace(book, price=price, bids=book.bids + 1), now)


def _with_time(book: Book, now: float) -> Outcome:
    if book.ends_at - now <= book.snipe_window:
        later = max(book.ends_at, now + book.extend_seconds)
        return Outcome(ACCEPTED, replace(book, ends_at=later), extended=later > book.ends_at)
    return Outcome(ACCEPTED, book)
