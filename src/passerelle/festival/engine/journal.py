"""The durable side of a shard: an append-only SQLite log of batches.

One transaction per batch with synchronous=FULL: a batch of thousands of claims costs one
fsync and one row (its reservations and status changes packed with MessagePack: a row per
claim would cost four times more; msgspec packs them in half orjson's time, and the packing
holds the GIL the claim loop needs). Batches written as JSON by earlier versions are still
read. A deal's remaining stock is never stored: it is
derived on replay (stock - held - sold), so recovery cannot disagree with what was
acknowledged.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import msgspec
import orjson

from passerelle.festival.engine.rules import HELD, RELEASED, SOLD, BookState, Deal, Row, confirm, release

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
    reservations BLOB NOT NULL,  -- MessagePack [[seq, deal, buyer, key, fingerprint, qty, created, expires], ...]
    changes BLOB NOT NULL        -- MessagePack [[status, seq], ...] (JSON in journals of earlier versions)
);
"""


_pack = msgspec.msgpack.Encoder().encode
_unpack_msgpack = msgspec.msgpack.Decoder().decode


def _unpack(blob: bytes) -> Any:
    # A JSON array starts with "[" (0x5b), which no MessagePack array starts with.
    return orjson.loads(blob) if blob[:1] == b"[" else _unpack_msgpack(blob)


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

    def commit(self, rows: Sequence[Row], status_changes: Iterable[tuple[int, int]] = ()) -> None:
        """Make one batch durable: its new reservations and (status, seq) changes, one fsync."""
        changes = list(status_changes)
        if not rows and not changes:
            return
        payload = (_pack(rows), _pack(changes))
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.execute("INSERT INTO batches (reservations, changes) VALUES (?, ?)", payload)
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def replay(self) -> Iterator[tuple[list[Row], list[tuple[int, int]]]]:
        """Every durable batch, oldest first: (reservation rows, (status, seq) changes)."""
        with self._lock:
            batches = self._conn.execute("SELECT reservations, changes FROM batches ORDER BY id").fetchall()
        for reservations, changes in batches:
            rows: list[Row] = [tuple(raw) for raw in _unpack(reservations)]
            yield rows, [(status, seq) for status, seq in _unpack(changes)]

    def load(self, *, deal_ids: set[int] | None = None) -> BookState:
        """Rebuild a shard's memory from what is durable (after a restart or a crash)."""
        book = BookState()
        with self._lock:
            deals = self._conn.execute("SELECT * FROM deals").fetchall()
        for deal_id, stock, limit, starts, ends, hold in deals:
            if deal_ids is None or deal_id in deal_ids:
                book.deals[deal_id] = Deal(deal_id, stock, limit, starts, ends, hold)
        max_seq = 0
        for rows, changes in self.replay():
            if rows:
                book.expiry_ranges.append((rows[0][6], rows[0][0], rows[-1][0] + 1))
                max_seq = max(max_seq, rows[-1][0])
            kept: list[Row] = []
            for row in rows:
                seq, deal_id, buyer, key, _fingerprint, quantity = row[:6]
                deal = book.deals.get(deal_id)
                if deal is None:
                    continue
                if kept and seq != kept[-1][0] + 1:  # a gap: rows of deals left out
                    book.reservations.extend(kept[0][0], kept)
                    kept = []
                kept.append(row)
                book.keys[(buyer, key)] = seq
                book.open_by_buyer[buyer] = book.open_by_buyer.get(buyer, 0) + 1
                deal.remaining -= quantity
                deal.bought[buyer] = deal.bought.get(buyer, 0) + quantity
            if kept:
                book.reservations.extend(kept[0][0], kept)
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
