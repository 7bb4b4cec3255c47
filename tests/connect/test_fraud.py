"""Fraud thresholds, and a flagged creator's new commissions are held."""

from __future__ import annotations

import httpx
import pytest

from passerelle.connect.models import Creator
from passerelle.connect.service import fraud
from passerelle.state import AppState
from tests.connect.helpers import make_creator


@pytest.mark.parametrize(
    ("commissions", "reversed_", "flagged"),
    [(10, 5, True), (10, 4, False), (9, 9, False), (100, 80, True)],
)
def test_refund_abuse_threshold(commissions: int, reversed_: int, flagged: bool) -> None:
    assert fraud.is_refund_abuse(commissions=commissions, reversed_=reversed_) is flagged


@pytest.mark.parametrize(
    ("last_day", "week_before", "flagged"),
    [(25, 7, True), (25, 70, False), (19, 0, False), (60, 70, True), (20, 28, False)],
)
def test_code_leak_spike(last_day: int, week_before: int, flagged: bool) -> None:
    assert fraud.is_code_leak(uses_last_day=last_day, uses_week_before=week_before) is flagged


async def test_given_an_open_flag_on_a_creator_then_new_commissions_are_held_and_flags_are_not_duplicated(
    client: httpx.AsyncClient, state: AppState
) -> None:
    _, creator_id = await make_creator(client, state)
    async with state.db.sessions() as session:
        creator = await session.get(Creator, creator_id)
        assert creator is not None
        assert await fraud.hold_reason(session, creator=creator, buyer_id=-1, order_id=1) == ""
        first = await fraud.flag(session, kind="code_leak", subject="code:ANNA10", creator_id=creator_id, detail={})
        again = await fraud.flag(session, kind="code_leak", subject="code:ANNA10", creator_id=creator_id, detail={})
        assert (first, again) == (True, False)
        assert await fraud.hold_reason(session, creator=creator, buyer_id=-1, order_id=1) == "under_review"
        await session.commit()
