"""Deal-claim rules: pure Python, no I/O, one shard's state in memory.

Kept deliberately flat (lists and dicts of ints, no object per claim): this loop runs
hundreds of thousands of times a second. A batch is applied in memory; the caller makes
the returned journal rows durable before answering anyone.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from operator import itemgetter

# Outcome codes, stable across the API.
RESERVED = "reserved"
SOLD_OUT = "sold_out"
LIMIT_REACHED = "limit_reached"
NOT_STARTED = "not_started"
ENDED = "ended"
KEY_REUSED = "idempotency_key_reused"
UNKNOWN_DEAL = "unknown_deal"
INVALID_QUANTITY = "invalid_quantity"
TOO_MANY_RESERVATIONS = "too_many_reservations"

# Journal row statuses.
HELD, SOLD, RELEASED = 0, 1, 2


@dataclass(slots=True)
class Deal:
    deal_id: int
    remaining: int
    per_buyer_limit: int
    starts_at: float  # unix seconds
    ends_at: float
    hold_seconds: float
    # buyer -> units held or sold (released units are given back)
    bought: dict[int, int] = field(default_factory=dict)
    # Units sold (held ones paid); with `bought`, the deal's counts without a walk.
    sold: int = 0


# A claim: (deal_id, buyer_id, idempotency key, quantity, fingerprint of the request body).
Claim = tuple[int, int, str, int, int]
# A reservation as read back: (seq, deal_id, buyer_id, key, fingerprint, quantity,
# created_at, expires_at).
Row = tuple[int, int, int, str, int, int, float, float]
# What a claim got: the reservation's seq (an int) when units are held, else the refusal's
# code (a str). Not a (code, seq) pair: a tuple per claim is measurable in this loop.
Outcome = int | str


@dataclass(slots=True)
class HoldBatch:
    """The reservations one batch made, as journaled: claim i holds seq first_seq + i.
    The claims are kept as they came (no row built per claim); what they share, the time
    and each deal's hold expiry, is stored once."""

    first_seq: int
    created_at: float
    claims: list[Claim]
    expires_at: dict[int, float]  # deal -> when this batch's holds on it end

    @property
    def end_seq(self) -> int:
        return self.first_seq + len(self.claims)

    def row(self, index: int) -> Row:
        deal_id, buyer, key, quantity, fingerprint = self.claims[index]
        return (
            self.first_seq + index,
            deal_id,
            buyer,
            key,
            fingerprint,
            quantity,
            self.created_at,
            self.expires_at[deal_id],
        )

    def rows(self) -> list[Row]:
        return [self.row(index) for index in range(len(self.claims))]


class Reservations:
    """Reservations by seq. Seqs are handed out one after another, so they live in lists
    indexed by seq (each claim and the batch it came in): appending a batch costs a
    fraction of a million-entry dict's inserts and rehashes. Seqs of deals another book
    holds are None."""

    __slots__ = ("_claims", "_batches", "_count")

    def __init__(self) -> None:
        self._claims: list[Claim | None] = [None]  # seqs start at 1
        self._batches: list[HoldBatch | None] = [None]
        self._count = 0

    def extend(self, batch: HoldBatch, claims: list[Claim | None] | None = None) -> None:
        """Index a batch newer than any held; `claims`, when given, is the batch's claims
        with None for those this book leaves out."""
        if batch.first_seq < len(self._claims):
            raise ValueError(f"seq {batch.first_seq} is already indexed")
        gap = [None] * (batch.first_seq - len(self._claims))
        self._claims.extend(gap)
        self._batches.extend(gap)
        kept = batch.claims if claims is None else claims
        self._claims.extend(kept)
        self._batches.extend([batch] * len(kept))
        self._count += len(kept) if claims is None else sum(1 for claim in claims if claim is not None)

    def claim(self, seq: int) -> Claim | None:
        return self._claims[seq] if 0 < seq < len(self._claims) else None

    def expires_at(self, seq: int) -> float:
        claim, batch = self._claims[seq], self._batches[seq]
        if claim is None or batch is None:
            raise KeyError(seq)
        return batch.expires_at[claim[0]]

    def get(self, seq: int) -> Row | None:
        batch = self._batches[seq] if 0 < seq < len(self._batches) else None
        if batch is None or self._claims[seq] is None:
            return None
        return batch.row(seq - batch.first_seq)

    def __getitem__(self, seq: int) -> Row:
        row = self.get(seq)
        if row is None:
            raise KeyError(seq)
        return row

    def __contains__(self, seq: object) -> bool:
        return isinstance(seq, int) and self.claim(seq) is not None

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[int]:
        return (seq for seq, claim in enumerate(self._claims) if claim is not None)

    def items(self) -> Iterator[tuple[int, Row]]:
        return ((seq, self[seq]) for seq in self)

    def of_deal(self, deal_id: int) -> Iterator[tuple[int, Claim]]:
        return ((seq, claim) for seq, claim in enumerate(self._claims) if claim is not None and claim[0] == deal_id)


@dataclass(slots=True)
class BookState:
    """Everything one shard knows; rebuilt from the journal on start."""

    deals: dict[int, Deal] = field(default_factory=dict)
    # (buyer, key) -> reservation seq (the request's fingerprint is in its row)
    keys: dict[tuple[int, str], int] = field(default_factory=dict)
    # seq -> its journal row; the status lives apart, since few reservations change
    reservations: Reservations = field(default_factory=Reservations)
    statuses: dict[int, int] = field(default_factory=dict)
    next_seq: int = 1
    # Denial-of-inventory defence: unpaid holds a buyer may keep at once (0 = no cap;
    # holds are then not counted, which keeps the claim loop shorter).
    max_open_per_buyer: int = 0
    open_by_buyer: dict[int, int] = field(default_factory=dict)

    # Where to look for expired holds: (created_at, first seq, end seq) per batch, oldest
    # first, so a sweep reads the batches old enough to hold expired claims, not every
    # reservation ever made.
    expiry_ranges: deque[tuple[float, int, int]] = field(default_factory=deque)

    def status(self, seq: int) -> int:
        return self.statuses.get(seq, HELD)


def outcome_pair(outcome: Outcome) -> tuple[str, int]:
    """(code, seq) of an outcome; seq is 0 when nothing is held."""
    return (RESERVED, outcome) if type(outcome) is int else (str(outcome), 0)


_deal_of_claim = itemgetter(0)


def apply_claims(book: BookState, claims: list[Claim], now: float) -> tuple[list[Outcome], HoldBatch]:
    """Apply claims in order. Returns one outcome per claim, and the reservations made (to
    journal before answering anyone). A key already seen answers the first claim's
    reservation again (same body) or `idempotency_key_reused` (another body), even inside
    one batch."""
    deals = book.deals
    keys = book.keys
    seq = first_seq = book.next_seq
    answers: list[Outcome] = []
    held: list[Claim] = []
    answer = answers.append
    keep = held.append
    max_open = book.max_open_per_buyer
    open_by_buyer = book.open_by_buyer
    key_of = keys.get  # bound once: the loop calls them per claim
    deal_of = deals.get
    for claim in claims:
        deal_id, buyer, key, quantity, fingerprint = claim
        buyer_key = (buyer, key)  # built once: looked up, then stored
        known = key_of(buyer_key)
        if known is not None:
            # The first claim: in this batch, or indexed by an earlier one.
            first = held[known - first_seq] if known >= first_seq else book.reservations.claim(known)
            answer(known if first is not None and first[4] == fingerprint else KEY_REUSED)
            continue
        deal = deal_of(deal_id)
        if deal is None:
            answer(UNKNOWN_DEAL)
            continue
        if deal.remaining < quantity:
            answer(SOLD_OUT if deal.starts_at <= now < deal.ends_at else _window(deal, now))
            continue
        if not deal.starts_at <= now < deal.ends_at:
            answer(_window(deal, now))
            continue
        if quantity <= 0:
            answer(INVALID_QUANTITY)
            continue
        bought = deal.bought
        already = bought.get(buyer, 0)
        if already + quantity > deal.per_buyer_limit:
            answer(LIMIT_REACHED)
            continue
        if max_open:
            holding = open_by_buyer.get(buyer, 0)
            if holding >= max_open:
                answer(TOO_MANY_RESERVATIONS)
                continue
            open_by_buyer[buyer] = holding + 1
        deal.remaining -= quantity
        bought[buyer] = already + quantity
        keys[buyer_key] = seq
        keep(claim)  # the claim itself is the reservation's record: nothing built per claim
        answer(seq)
        seq += 1
    book.next_seq = seq
    expires_at = {deal_id: now + deals[deal_id].hold_seconds for deal_id in set(map(_deal_of_claim, held))}
    made = HoldBatch(first_seq, now, held, expires_at)
    if held:
        book.reservations.extend(made)
        book.expiry_ranges.append((now, first_seq, seq))
    return answers, made


def _window(deal: Deal, now: float) -> str:
    return NOT_STARTED if now < deal.starts_at else ENDED


def release(book: BookState, seq: int) -> bool:
    """An unpaid (or cancelled) hold goes back on sale. False when not held."""
    claim = book.reservations.claim(seq)
    if claim is None or book.status(seq) != HELD:
        return False
    book.statuses[seq] = RELEASED
    deal_id, buyer, _, quantity, _ = claim
    _close_hold(book, buyer)
    deal = book.deals[deal_id]
    deal.remaining += quantity
    left = deal.bought.get(buyer, 0) - quantity
    if left > 0:
        deal.bought[buyer] = left
    else:
        deal.bought.pop(buyer, None)
    return True


def confirm(book: BookState, seq: int) -> bool:
    """Payment received: the hold becomes a sale. False when not held."""
    claim = book.reservations.claim(seq)
    if claim is None or book.status(seq) != HELD:
        return False
    book.statuses[seq] = SOLD
    _close_hold(book, claim[1])
    deal = book.deals.get(claim[0])
    if deal is not None:
        deal.sold += claim[3]
    return True


def _close_hold(book: BookState, buyer: int) -> None:
    left = book.open_by_buyer.get(buyer, 0) - 1
    if left > 0:
        book.open_by_buyer[buyer] = left
    else:
        book.open_by_buyer.pop(buyer, None)


def due_for_release(book: BookState, now: float) -> list[int]:
    """Held reservations whose time is up. Batches whose holds are all settled are dropped
    from `expiry_ranges`; the scan stops at the first batch too recent to hold one."""
    if not book.expiry_ranges:
        return []
    shortest_hold = min((deal.hold_seconds for deal in book.deals.values()), default=0.0)
    statuses = book.statuses
    reservations = book.reservations
    due: list[int] = []
    kept: list[tuple[float, int, int]] = []
    ranges = book.expiry_ranges
    while ranges and ranges[0][0] + shortest_hold <= now:
        span = ranges.popleft()
        waiting = False
        for seq in range(span[1], span[2]):
            # Absent when its deal is not loaded in this book.
            if reservations.claim(seq) is not None and statuses.get(seq, HELD) == HELD:
                if reservations.expires_at(seq) <= now:
                    due.append(seq)
                else:
                    waiting = True
        if waiting:
            kept.append(span)
    ranges.extendleft(reversed(kept))
    return due


def counts(book: BookState, deal_id: int) -> tuple[int, int, int]:
    """(remaining, held, sold) of a deal: remaining + held + sold is the deal's stock. From
    the deal's own tallies (its buyers' units are held or sold), not a walk through every
    reservation of the shard: deals closing together at a festival's end each ask."""
    deal = book.deals[deal_id]
    return deal.remaining, sum(deal.bought.values()) - deal.sold, deal.sold
