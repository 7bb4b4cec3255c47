"""The durable side of a shard: an append-only SQLite log of batches.

One transaction per batch with synchronous=FULL: a batch of thousands of claims costs one
fsync and one row: its reservations (the claims as they came, with the batch's time and
each deal's hold expiry stored once) and its status changes, packed with MessagePack (a
row per claim would cost four times more; msgspec packs in half orjson's time, and the
packing holds the GIL the claim loop needs). Batches written by earlier versions (a JSON
row per reservation) are still read. A deal's remaining stock is never stored: it is
derived on replay (stock - held - sold), so recovery cannot disagree with what was
acknowledged.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import msgspec
import orjson

from passerelle.festival.engine.rules import (
    HELD,
    RELEASED,
    SOLD,
    BookState,
    Claim,
    Deal,
    HoldBatch,
    Row,
    confirm,
    release,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS deals (
    deal_id INTEGER PRIMARY KEY,
    stock INTEGER NOT NULL CHECK (stock >= 0),
    per_buyer_limit INTEGER NOT NULL,
    starts_at REAL NOT NULL,
    ends_at REAL NOT NULL,
    hold_seconds REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS batches (
    id INTEGER PRIMARY KEY,
    reservations BLOB NOT NULL,  -- MessagePack {first_seq, created_at, expires_at: {deal: t}, claims: [[deal, buyer, key, qty, fingerprint], ...]}
    changes BLOB NOT NULL        -- MessagePack [[status, seq], ...] (earlier versions: JSON rows and changes)
);
"""


class _Packed(msgspec.Struct):
    """A batch's reservations as journaled (a MessagePack map)."""

    first_seq: int
    created_at: float
    expires_at: dict[int, float]
    claims: list[tuple[int, int, str, int, int]]


_pack = msgspec.msgpack.Encoder().encode
_unpack_batch = msgspec.msgpack.Decoder(_Packed).decode
_unpack_any = msgspec.msgpack.Decoder().decode
_NO_RESERVATIONS = _pack([])


def _unpack(blob: bytes) -> Any:
    # A JSON array starts with "[" (0x5b), which no MessagePack value we write starts with.
    return orjson.loads(blob) if blob[:1] == b"[" else _unpack_any(blob)


def _hold_batch(blob: bytes) -> HoldBatch | None:
    """The reservations of one durable batch. Earlier versions wrote a row per reservation
    ([seq, deal, buyer, key, fingerprint, quantity, created, expires], as JSON, then as
    MessagePack); every row of a batch shares its time and its deal's expiry."""
    if blob[:1] and blob[0] & 0xF0 == 0x80:  # a MessagePack map: this version's layout
        packed = _unpack_batch(blob)
        return HoldBatch(packed.first_seq, packed.created_at, packed.claims, packed.expires_at)
    rows = _unpack(blob)
    if not rows:
        return None
    claims: list[Claim] = [
        (deal, buyer, key, quantity, fingerprint) for _, deal, buyer, key, fingerprint, quantity, _, _ in rows
    ]
    return HoldBatch(rows[0][0], rows[0][6], claims, {row[1]: row[7] for row in rows})


class SqliteJournal:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # Used from the shard's commit thread only, one call at a time.
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.executescript(SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        self._conn.close()

    def stocks(self) -> dict[int, int]:
        with self._lock:
            return dict(self._conn.execute("SELECT deal_id, stock FROM deals").fetchall())

    def put_deals(self, deals: Iterable[tuple[Deal, int]]) -> None:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            self._conn.executemany(
                "INSERT INTO deals VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(deal_id) DO UPDATE SET "
                "stock=excluded.stock, per_buyer_limit=excluded.per_buyer_limit, starts_at=excluded.starts_at, "
                "ends_at=excluded.ends_at, hold_seconds=excluded.hold_seconds",
                [(d.deal_id, stock, d.per_buyer_limit, d.starts_at, d.ends_at, d.hold_seconds) for d, stock in deals],
            )
            self._conn.execute("COMMIT")

    def commit(self, made: HoldBatch | None, status_changes: Iterable[tuple[int, int]] = ()) -> None:
        """Make one batch durable: the reservations it made and its (status, seq) changes,
        one fsync."""
        changes = list(status_changes)
        if (made is None or not made.claims) and not changes:
            return
        reservations = (
            _pack(_Packed(made.first_seq, made.created_at, made.expires_at, made.claims))
            if made is not None and made.claims
            else _NO_RESERVATIONS
        )
        payload = (reservations, _pack(changes))
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.execute("INSERT INTO batches (reservations, changes) VALUES (?, ?)", payload)
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def batches(self) -> Iterator[tuple[HoldBatch | None, list[tuple[int, int]]]]:
        """Every durable batch, oldest first: (its reservations, its (status, seq) changes)."""
        with self._lock:
            stored = self._conn.execute("SELECT reservations, changes FROM batches ORDER BY id").fetchall()
        for reservations, changes in stored:
            yield _hold_batch(reservations), [(status, seq) for status, seq in _unpack(changes)]

    def replay(self) -> Iterator[tuple[list[Row], list[tuple[int, int]]]]:
        """Every durable batch, oldest first: (reservation rows, (status, seq) changes)."""
        for made, changes in self.batches():
            yield (made.rows() if made is not None else []), changes

    def load(self, *, deal_ids: set[int] | None = None) -> BookState:
        """Rebuild a shard's memory from what is durable (after a restart or a crash)."""
        book = BookState()
        with self._lock:
            deals = self._conn.execute("SELECT * FROM deals").fetchall()
        for deal_id, stock, limit, starts, ends, hold in deals:
            if deal_ids is None or deal_id in deal_ids:
                book.deals[deal_id] = Deal(deal_id, stock, limit, starts, ends, hold)
        max_seq = 0
        for made, changes in self.batches():
            if made is not None and made.claims:
                book.expiry_ranges.append((made.created_at, made.first_seq, made.end_seq))
                max_seq = max(max_seq, made.end_seq - 1)
                kept: list[Claim | None] = []
                for seq, claim in enumerate(made.claims, start=made.first_seq):
                    deal_id, buyer, key, quantity, _fingerprint = claim
                    deal = book.deals.get(deal_id)
                    if deal is None:  # a deal this book leaves out
                        kept.append(None)
                        continue
                    kept.append(claim)
                    book.keys[(buyer, key)] = seq
                    book.open_by_buyer[buyer] = book.open_by_buyer.get(buyer, 0) + 1
                    deal.remaining -= quantity
                    deal.bought[buyer] = deal.bought.get(buyer, 0) + quantity
                book.reservations.extend(made, kept)
            for status, seq in changes:
                if seq not in book.reservations:
                    continue
                if status == RELEASED:
                    release(book, seq)  # gives the units and the buyer's allowance back
                elif status == SOLD:
                    confirm(book, seq)
        book.next_seq = max_seq + 1
        return book

    def totals(self, deal_id: int) -> tuple[int, int, int, int]:
        """(stock, held, sold, released units) as stored, by replaying the log."""
        book = self.load(deal_ids={deal_id})
        stock_row = self._conn.execute("SELECT stock FROM deals WHERE deal_id = ?", (deal_id,)).fetchone()
        stock = int(stock_row[0]) if stock_row else 0
        units = {HELD: 0, SOLD: 0, RELEASED: 0}
        for seq, row in book.reservations.items():
            units[book.status(seq)] += row[5]
        return stock, units[HELD], units[SOLD], units[RELEASED]
