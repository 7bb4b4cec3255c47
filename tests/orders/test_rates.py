"""Commission and shipping-fee lookups for the merchants of one checkout (orders/rates.py):
each merchant gets its own rules, on SQLite (a statement per merchant) and on PostgreSQL
(one statement for all of them)."""

from __future__ import annotations

import pytest

from passerelle.orders import rates
from passerelle.orders.models import CommissionRule, ShippingFee
from passerelle.state import AppState
from tests.factories import make_merchant, make_user

pytestmark = pytest.mark.both_backends


async def test_given_three_merchants_then_each_gets_its_own_fee_and_commission(state: AppState) -> None:
    exact, anywhere, none = [await make_merchant(state, await make_user(state)) for _ in range(3)]
    async with state.db.sessions() as session:
        session.add_all(
            [
                ShippingFee(merchant_id=exact.id, country=None, fee_amount=990, free_from_amount=None),
                ShippingFee(merchant_id=exact.id, country="DE", fee_amount=590, free_from_amount=5000),
                ShippingFee(merchant_id=anywhere.id, country=None, fee_amount=1290, free_from_amount=None),
                CommissionRule(merchant_id=None, category_id=None, rate_bp=1000),
                CommissionRule(merchant_id=exact.id, category_id=None, rate_bp=700),
                CommissionRule(merchant_id=anywhere.id, category_id=None, rate_bp=1500),
            ]
        )
        await session.commit()

    async with state.db.writing() as session:
        fees = await rates.shipping_fees_for(session, merchants=[exact, anywhere, none], country="DE")
        table = await rates.commission_table(session, merchant_ids={exact.id, anywhere.id, none.id})

    assert fees[exact.id] == (590, 5000)  # its German fee, not its fee for anywhere
    assert fees[anywhere.id] == (1290, None)
    assert fees[none.id] == (1490, None)  # the default international fee (a French shop, EUR)
    rate = [table.rate_bp(merchant_id=m.id, category_id=None) for m in (exact, anywhere, none)]
    assert rate == [700, 1500, 1000]
