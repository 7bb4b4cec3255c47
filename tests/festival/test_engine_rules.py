"""The pure claim rules, and the shard's durability: batches, replay after restart."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterable
from pathlib import Path

import orjson

from passerelle.festival.engine import rules
from passerelle.festival.engine.journal import SqliteJournal
from passerelle.festival.engine.rules import BookState, Deal, apply_claims
from passerelle.festival.engine.shard import Shard

NOW = 1_800_000_000.0


def _book(stock: int = 3, limit: int = 2) -> BookState:
    book = BookState()
    book.deals[7] = Deal(7, stock, limit, NOW - 10, NOW + 10, 900)
    return book


def test_given_stock_then_claims_reserve_until_sold_out_and_the_limit_holds_per_buyer() -> None:
    book = _book(stock=3, limit=2)
    answers, made = apply_claims(
        book, [(7, 1, "a", 1, 1), (7, 1, "b", 1, 2), (7, 1, "c", 1, 3), (7, 2, "d", 1, 4), (7, 3, "e", 1, 5)], NOW
    )
    assert answers == [1, 2, rules.LIMIT_REACHED, 3, rules.SOLD_OUT]
    assert [rules.outcome_pair(a) for a in answers[:3]] == [
        (rules.RESERVED, 1),
        (rules.RESERVED, 2),
        (rules.LIMIT_REACHED, 0),
    ]
    assert [row[0] for row in made.rows()] == [1, 2, 3]
    assert made.rows()[2] == (3, 7, 2, "d", 4, 1, NOW, NOW + 900)
    assert rules.counts(book, 7) == (0, 3, 0)


def test_given_a_repeated_key_then_the_same_reservation_or_key_reused() -> None:
    book = _book()
    answers, made = apply_claims(book, [(7, 1, "k", 1, 99), (7, 1, "k", 1, 99), (7, 1, "k", 2, 100)], NOW)
    assert answers == [1, 1, rules.KEY_REUSED]
    assert len(made.claims) == 1


def test_given_the_sale_window_then_not_started_and_ended() -> None:
    book = _book()
    assert apply_claims(book, [(7, 1, "a", 1, 1)], NOW - 11)[0] == [rules.NOT_STARTED]
    assert apply_claims(book, [(7, 1, "b", 1, 1)], NOW + 10)[0] == [rules.ENDED]
    assert apply_claims(book, [(8, 1, "c", 1, 1)], NOW)[0] == [rules.UNKNOWN_DEAL]


def test_given_a_released_hold_then_stock_and_the_buyer_allowance_come_back() -> None:
    book = _book(stock=1, limit=1)
    (answer,), _ = apply_claims(book, [(7, 1, "a", 1, 1)], NOW)
    assert answer == 1
    assert rules.release(book, 1) is True
    assert rules.release(book, 1) is False
    assert apply_claims(book, [(7, 1, "b", 1, 2)], NOW)[0] == [2]
    assert rules.confirm(book, 2) is True
    assert rules.counts(book, 7) == (0, 0, 1)


def test_given_expired_holds_then_they_are_due() -> None:
    book = _book()
    apply_claims(book, [(7, 1, "a", 1, 1)], NOW)
    assert rules.due_for_release(book, NOW + 899) == []
    assert rules.due_for_release(book, NOW + 900) == [1]


def test_given_deals_with_different_holds_then_each_hold_is_due_at_its_own_time_and_settled_batches_are_dropped() -> (
    None
):
    book = _book(stock=10, limit=10)
    book.deals[8] = Deal(8, 10, 10, NOW - 10, NOW + 10, 60)
    apply_claims(book, [(7, 1, "a", 1, 1), (8, 1, "b", 1, 2)], NOW)  # holds of 900 s and 60 s
    apply_claims(book, [(8, 2, "c", 1, 3), (8, 2, "d", 1, 4)], NOW + 5)
    assert rules.confirm(book, 4) is True  # paid: never due
    assert rules.due_for_release(book, NOW + 59) == []
    assert rules.due_for_release(book, NOW + 65) == [2, 3]
    for seq in (2, 3):
        rules.release(book, seq)
    # The second batch is settled; the first still waits for its 900 s hold.
    assert list(book.expiry_ranges) == [(NOW, 1, 3)]
    assert rules.due_for_release(book, NOW + 600) == []
    assert rules.due_for_release(book, NOW + 900) == [1]


async def test_given_a_shard_when_restarted_then_it_rebuilds_exactly_what_was_acknowledged(tmp_path: Path) -> None:
    clock = [time.time()]
    journal = SqliteJournal(tmp_path / "journal.db")
    shard = Shard(journal, clock=lambda: clock[0])
    shard.add_deals([(Deal(1, 0, 2, clock[0] - 1, clock[0] + 3600, 60), 5)])
    shard.start()
    answers = await asyncio.gather(*(shard.claim((1, buyer, f"k{buyer}", 1, buyer)) for buyer in range(1, 9)))
    codes = [a.code for a in answers]
    assert codes.count(rules.RESERVED) == 5 and codes.count(rules.SOLD_OUT) == 3
    held = [a.seq for a in answers if a.code == rules.RESERVED]
    assert await shard.confirm(held[0]) is True
    assert await shard.release(held[1]) is True
    await shard.stop()
    journal.close()

    reopened = SqliteJournal(tmp_path / "journal.db")
    again = Shard(reopened, clock=lambda: clock[0])
    assert rules.counts(again.book, 1) == (1, 3, 1)
    assert reopened.totals(1) == (5, 3, 1, 1)
    again.start()
    # The same key answers the same reservation after the restart; a new claim takes the released unit.
    replay = await again.claim((1, 1, "k1", 1, 1))
    assert (replay.code, replay.seq) == (rules.RESERVED, held[0])
    fresh = await again.claim((1, 42, "new", 1, 42))
    assert fresh.code == rules.RESERVED
    clock[0] += 61
    assert sorted(await again.expire_due()) == sorted(held[2:] + [fresh.seq])
    assert rules.counts(again.book, 1) == (4, 0, 1)
    await again.stop()
    reopened.close()


def test_given_a_journal_with_batches_written_as_json_by_an_earlier_version_then_it_still_loads(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "journal.db")
    journal.put_deals([(Deal(1, 0, 2, NOW - 10, NOW + 10, 900), 3)])
    journal._conn.execute(  # what earlier versions wrote: both columns as JSON
        "INSERT INTO batches (reservations, changes) VALUES (?, ?)",
        (orjson.dumps([[1, 1, 7, "a", 11, 1, NOW, NOW + 900]]), orjson.dumps([])),
    )
    journal.commit(rules.HoldBatch(2, NOW, [(1, 8, "b", 1, 12)], {1: NOW + 900}), [(rules.SOLD, 1)])
    book = journal.load()
    journal.close()
    assert book.keys == {(7, "a"): 1, (8, "b"): 2}
    assert (book.deals[1].remaining, book.status(1), book.status(2)) == (1, rules.SOLD, rules.HELD)
    assert book.next_seq == 3


class _StallingJournal(SqliteJournal):
    """A real journal whose next commit waits for a signal, then fails once when asked to."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.fail_next = False
        self.entered = threading.Event()
        self.proceed = threading.Event()
        self.proceed.set()

    def commit(self, made: rules.HoldBatch | None, status_changes: Iterable[tuple[int, int]] = ()) -> None:
        self.entered.set()
        self.proceed.wait(10)
        if self.fail_next:
            self.fail_next = False
            raise OSError("disk full")
        super().commit(made, status_changes)


async def test_given_a_commit_fails_while_the_next_batch_is_applied_then_both_fail_and_memory_is_undone(
    tmp_path: Path,
) -> None:
    now = time.time()
    journal = _StallingJournal(tmp_path / "journal.db")
    shard = Shard(journal)
    shard.add_deals([(Deal(1, 0, 5, now - 1, now + 3600, 60), 10)])
    shard.start()
    kept = await shard.claim((1, 1, "kept", 1, 1))
    assert kept.code == rules.RESERVED

    # Batch N stalls in its commit; batch N+1 is applied in memory meanwhile.
    journal.fail_next = True
    journal.entered.clear()
    journal.proceed.clear()
    first = asyncio.create_task(shard.claim((1, 2, "n", 2, 2)))
    await asyncio.to_thread(journal.entered.wait, 10)
    second = asyncio.create_task(shard.claim((1, 3, "n+1", 3, 3)))
    for _ in range(100):
        if shard.book.deals[1].remaining == 4:
            break
        await asyncio.sleep(0.01)
    assert shard.book.deals[1].remaining == 4  # 10 - 1 - 2 - 3: N+1 ran on top of N
    journal.proceed.set()
    results = await asyncio.gather(first, second, return_exceptions=True)
    assert all(isinstance(result, BaseException) for result in results)

    # Nothing of N or N+1 is kept, in memory or on disk; the shard goes on.
    assert rules.counts(shard.book, 1) == (9, 1, 0)
    again = await shard.claim((1, 3, "n+1", 3, 3))
    assert again.code == rules.RESERVED
    await shard.stop()
    assert journal.totals(1) == (10, 4, 0, 0)
    journal.close()


def test_given_claims_releases_and_payments_on_two_deals_then_counts_match_a_walk_of_the_reservations() -> None:
    book = _book(stock=50, limit=5)
    book.deals[8] = Deal(8, 40, 5, NOW - 10, NOW + 10, 900)
    claims = [(7 if n % 3 else 8, n % 17, f"k{n}", 1 + n % 2, n) for n in range(60)]
    apply_claims(book, claims, NOW)
    for deal_id in (7, 8):
        made = [seq for seq, _ in book.reservations.of_deal(deal_id)]
        for seq in made[::4]:
            rules.release(book, seq)
        for seq in made[::3]:
            rules.confirm(book, seq)  # refused for those released above
    for deal_id, stock in ((7, 50), (8, 40)):
        units = {rules.HELD: 0, rules.SOLD: 0, rules.RELEASED: 0}
        for seq, claim in book.reservations.of_deal(deal_id):
            units[book.status(seq)] += claim[3]
        remaining, held, sold = rules.counts(book, deal_id)
        assert (held, sold) == (units[rules.HELD], units[rules.SOLD]) and sold > 0 and held > 0
        assert remaining + held + sold == stock
