"""Hypothesis state machine: the engine's rules against a plain model, through claims,
payments, expiries, cancellations, the deal's end and restarts from the journal."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from passerelle.festival.engine import rules
from passerelle.festival.engine.journal import SqliteJournal
from passerelle.festival.engine.rules import BookState, Deal

STOCK, LIMIT, HOLD = 6, 2, 30.0


class EngineMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="passerelle-engine-sm-"))
        self.journal = SqliteJournal(self.tmp / "j.db")
        self.now = 1_000.0
        deal = Deal(1, STOCK, LIMIT, 1_000.0, 2_000.0, HOLD)
        self.journal.put_deals([(deal, STOCK)])
        self.book = BookState()
        self.book.deals[1] = deal
        # The model: reservation seq -> [buyer, qty, expires, status]; key -> seq
        self.model: dict[int, list[float | int]] = {}
        self.keys: dict[tuple[int, str], tuple[int, int]] = {}
        self.changes: list[tuple[int, int]] = []

    def teardown(self) -> None:
        self.journal.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _model_remaining(self) -> int:
        return STOCK - sum(int(r[1]) for r in self.model.values() if r[3] != rules.RELEASED)

    def _model_bought(self, buyer: int) -> int:
        return sum(int(r[1]) for r in self.model.values() if r[0] == buyer and r[3] != rules.RELEASED)

    @rule(buyer=st.integers(1, 4), key=st.sampled_from(["a", "b", "c", "d", "e"]), quantity=st.integers(0, 3))
    def claim(self, buyer: int, key: str, quantity: int) -> None:
        fingerprint = quantity
        (outcome,), rows = rules.apply_claims(self.book, [(1, buyer, key, quantity, fingerprint)], self.now)
        answer = rules.outcome_pair(outcome)
        known = self.keys.get((buyer, key))
        if known is not None:
            expected = (rules.RESERVED, known[1]) if known[0] == fingerprint else (rules.KEY_REUSED, 0)
            assert answer == expected
        elif self.now >= 2_000.0:
            assert answer[0] == rules.ENDED
        elif self._model_remaining() < quantity:
            assert answer[0] == rules.SOLD_OUT
        elif quantity <= 0:
            assert answer[0] == rules.INVALID_QUANTITY
        elif self._model_bought(buyer) + quantity > LIMIT:
            assert answer[0] == rules.LIMIT_REACHED
        else:
            assert answer[0] == rules.RESERVED
            seq = answer[1]
            self.model[seq] = [buyer, quantity, self.now + HOLD, rules.HELD]
            self.keys[(buyer, key)] = (fingerprint, seq)
        self.journal.commit(rows, [])

    @precondition(lambda self: any(r[3] == rules.HELD for r in self.model.values()))
    @rule(data=st.data())
    def pay(self, data: st.DataObject) -> None:
        seq = data.draw(st.sampled_from(sorted(s for s, r in self.model.items() if r[3] == rules.HELD)))
        assert rules.confirm(self.book, seq)
        self.model[seq][3] = rules.SOLD
        self.journal.commit(None, [(rules.SOLD, seq)])

    @precondition(lambda self: any(r[3] == rules.HELD for r in self.model.values()))
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        seq = data.draw(st.sampled_from(sorted(s for s, r in self.model.items() if r[3] == rules.HELD)))
        assert rules.release(self.book, seq)
        assert not rules.release(self.book, seq)
        self.model[seq][3] = rules.RELEASED
        self.journal.commit(None, [(rules.RELEASED, seq)])

    @rule(seconds=st.sampled_from([1.0, 10.0, 31.0, 500.0]))
    def time_passes(self, seconds: float) -> None:
        self.now += seconds
        due = rules.due_for_release(self.book, self.now)
        expected = sorted(s for s, r in self.model.items() if r[3] == rules.HELD and float(r[2]) <= self.now)
        assert sorted(due) == expected
        for seq in due:
            rules.release(self.book, seq)
            self.model[seq][3] = rules.RELEASED
        self.journal.commit(None, [(rules.RELEASED, seq) for seq in due])

    @rule()
    def restart(self) -> None:
        """Rebuild from the journal: the same state as before."""
        book = self.journal.load()
        book.next_seq = max(book.next_seq, self.book.next_seq)
        assert book.deals[1].remaining == self.book.deals[1].remaining
        assert book.keys == self.book.keys
        assert {s: book.status(s) for s in book.reservations} == {
            s: self.book.status(s) for s in self.book.reservations
        }
        self.book = book

    @invariant()
    def stock_adds_up(self) -> None:
        remaining, held, sold = rules.counts(self.book, 1)
        assert remaining == self._model_remaining()
        assert remaining + held + sold == STOCK
        assert remaining >= 0
        for buyer in range(1, 5):
            assert self._model_bought(buyer) <= LIMIT


TestEngineMachine = EngineMachine.TestCase
TestEngineMachine.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
