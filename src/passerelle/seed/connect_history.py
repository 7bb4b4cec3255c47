"""Weeks of the demo's influencer program (planned in seed/connect_plan.py), played in time
order through the real code paths: clicks through the click recorder (bots, flood cap, dedup,
per-creator counters), credited sales through checkout, the payment webhook and commission
accrual (the pure attribution rules, the ledger), deliveries through the order lifecycle,
approvals when the return window closes, a monthly payout run, then a click flood that the
recorder's flood rule flags, so the creator's later commissions are held for review.
"""

from __future__ import annotations

import contextlib
import random
from datetime import datetime, timedelta

from sqlalchemy import select

from passerelle.accounts.models import Role, User
from passerelle.connect.clicks import ClickRecorder
from passerelle.connect.models import Creator
from passerelle.connect.service import commissions, payouts, samples
from passerelle.errors import DomainError
from passerelle.merchants.models import MemberRole, MerchantMember
from passerelle.money import FxTable
from passerelle.orders.models import OrderStatus
from passerelle.orders.service import lifecycle, placement
from passerelle.payments import service as payments
from passerelle.payments.providers.base import WebhookEvent
from passerelle.seed import shipping
from passerelle.seed.connect_plan import (
    DAY,
    DELIVERY,
    HOUR,
    Buy,
    CreatorSeed,
    PlannedClick,
    Timeline,
    plan_buys,
    plan_clicks,
    plan_flood,
    plan_sales,
)
from passerelle.state import AppState

BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36"
# How long after payment the merchant accepts and ships; the carrier delivers at DELIVERY.
ACCEPTED = 4 * HOUR
SHIPPED = DAY
_RANK = {
    status: rank
    for rank, status in enumerate(
        (OrderStatus.paid, OrderStatus.accepted, OrderStatus.shipped, OrderStatus.delivered, OrderStatus.completed)
    )
}
ADDRESSES = {
    "FR": ("12 rue de la République", "Lyon", "69002"),
    "ES": ("Calle de Alcalá 48", "Madrid", "28014"),
}


async def seed_connect_history(
    state: AppState, seeds: list[CreatorSeed], t: Timeline, *, sample_campaign: int | None
) -> int:
    """Returns how many credited orders were made."""
    async with state.db.read_sessions() as session:
        buyer_ids = list(
            (
                await session.execute(
                    select(User.id).where(User.role == Role.buyer, User.currency == "EUR").order_by(User.id).limit(2)
                )
            ).scalars()
        )
        merchant_ids = {link.merchant_id for s in seeds for link in s.sale_links}
        rows = await session.execute(
            select(MerchantMember.merchant_id, MerchantMember.user_id).where(
                MerchantMember.merchant_id.in_(merchant_ids), MerchantMember.role == MemberRole.owner
            )
        )
        owners = {merchant_id: user_id for merchant_id, user_id in rows.all()}
    if not buyer_ids:
        return 0
    rng = random.Random(1111)  # the same demo on every run, relative to its day
    buys = plan_buys(plan_sales(t, len(seeds)), seeds, buyer_ids, rng)
    settings = state.settings
    # Its own recorder: these clicks are weeks old and must not touch the live one's flood state.
    recorder = ClickRecorder(
        state.db, ip_rate=settings.connect_clicks_per_ip_per_second, ip_burst=settings.connect_click_burst
    )
    await _record(recorder, plan_clicks(t, seeds, buys, rng))
    fx = await state.fx()
    order_ids: list[int] = []
    for buy in buys:
        if not buy.sale.held:
            await _try_sell(state, buy, owners, fx, t.now, order_ids)
    await _approve(state, order_ids, at=t.payday)
    await _monthly_run(state, t)
    await _approve(state, order_ids, at=t.now)
    await _record(recorder, plan_flood(t, seeds[-1].sale_links[0], rng))
    for buy in buys:
        if buy.sale.held:
            await _try_sell(state, buy, owners, fx, t.now, order_ids)
    if sample_campaign is not None:
        await _ask_sample(state, seeds[0].creator_id, sample_campaign, at=t.now - DAY)
    return len(order_ids)


async def _record(recorder: ClickRecorder, clicks: list[PlannedClick]) -> None:
    for c in clicks:
        recorder.offer(
            c.link.target(),
            visitor=c.visitor,
            user_id=c.user_id,
            ip=c.ip,
            agent=BROWSER,
            referrer=c.referrer,
            now=c.at.timestamp(),
        )
    await recorder.flush()  # writes the clicks and any flood flag
    while recorder.pending():
        await recorder.flush()


async def _try_sell(
    state: AppState, buy: Buy, owners: dict[int, int], fx: FxTable, now: datetime, order_ids: list[int]
) -> None:
    assert buy.link.merchant_id is not None
    with contextlib.suppress(DomainError):  # e.g. a SKU sold out meanwhile: the demo has one sale less
        order_ids.append(await _sell(state, buy, owner_id=owners[buy.link.merchant_id], fx=fx, now=now))


async def _sell(state: AppState, buy: Buy, *, owner_id: int, fx: FxTable, now: datetime) -> int:
    """One credited order, in one transaction: checkout with the visitor id on the line, the
    payment webhook, accrual at the payment time, then the merchant's (and buyer's) steps."""
    sale, n = buy.sale, buy.number
    assert buy.link.sku_id is not None
    async with state.db.sessions() as session:
        buyer = await session.get(User, buy.buyer_id)
        owner = await session.get(User, owner_id)
        assert buyer is not None and owner is not None
        line1, city, postal_code = ADDRESSES.get(buyer.country, ADDRESSES["FR"])
        quote = await placement.price(
            session,
            requests=[
                placement.LineRequest(buy.link.sku_id, 2 if n % 4 == 3 else 1, attribution={"visitor": buy.visitor})
            ],
            country=buyer.country if buyer.country in ADDRESSES else "FR",
            currency=buyer.currency,
            fx=fx,
            language=buyer.language,
        )
        address = placement.Address(buyer.display_name, line1, city, postal_code, quote.country)
        done = await placement.place(
            session,
            buyer=buyer,
            quote=quote,
            address=address,
            now=sale.paid_at - timedelta(minutes=3),
            hold_for=timedelta(minutes=15),
        )
        provider = state.payment_providers["sandbox"]
        payment = await payments.open_payment(session, purchase=done.purchase, provider=provider)
        event = WebhookEvent(
            f"evt_connect_{payment.public_id}",
            "payment.succeeded",
            payment.public_id,
            payment.amount,
            payment.currency,
            f"ch_connect_{n}",
            {"seed": True},
        )
        await payments.apply_webhook(session, provider=provider, event=event, now=sale.paid_at)
        order_id = done.orders[0].id
        window = state.settings.connect_return_window_days
        # What the outbox's orders.paid consumer does, at the payment's time (it would use the
        # server's clock); the consumer finds it done later and books nothing twice.
        await commissions.accrue(session, order_id=order_id, now=sale.paid_at, return_window_days=window)
        if _RANK[sale.until] >= _RANK[OrderStatus.accepted]:
            await lifecycle.request_transition(
                session, actor=owner, order_id=order_id, to_status=OrderStatus.accepted, now=sale.paid_at + ACCEPTED
            )
        if _RANK[sale.until] >= _RANK[OrderStatus.shipped]:  # a parcel, delivered by the carrier's event
            delivered = _RANK[sale.until] >= _RANK[OrderStatus.delivered]
            await shipping.ship(
                session,
                state,
                owner=owner,
                order_id=order_id,
                at=sale.paid_at + SHIPPED,
                delivered_at=sale.paid_at + DELIVERY if delivered else None,
            )
        confirmed = sale.paid_at + DELIVERY + DAY
        if sale.until == OrderStatus.completed and confirmed < now:
            await lifecycle.request_transition(
                session, actor=buyer, order_id=order_id, to_status=OrderStatus.completed, now=confirmed
            )
        # The delivery's consumer (orders.status_changed): dates the approval; idempotent too.
        await commissions.schedule_approval(session, order_id=order_id, return_window_days=window)
        await session.commit()
    return order_id


async def _approve(state: AppState, order_ids: list[int], *, at: datetime) -> None:
    """What the connect.approve_due messages do when their time comes (those queued for later
    than `at` approve nothing now)."""
    async with state.db.sessions() as session:
        for order_id in order_ids:
            await commissions.approve_due(session, order_id=order_id, now=at)
        await session.commit()


async def _monthly_run(state: AppState, t: Timeline) -> None:
    """The payout day's run, as the scheduler would have made it: its period scheduled, then run."""
    settings = state.settings
    async with state.db.sessions() as session:
        await payouts.ensure_scheduled(
            session, now=t.payday - HOUR, day=settings.connect_payout_day, time_zone=settings.operator_time_zone
        )
        await payouts.run_monthly(session, period=t.period, now=t.payday, threshold=settings.connect_payout_threshold)
        await session.commit()


async def _ask_sample(state: AppState, creator_id: int, campaign_id: int, *, at: datetime) -> None:
    """The first creator asks the sample campaign for a box: the merchant's console shows it."""
    async with state.db.sessions() as session:
        creator = await session.get(Creator, creator_id)
        if creator is None:
            return
        line1, city, postal_code = ADDRESSES["FR"]
        address = {
            "name": creator.display_name,
            "line1": line1,
            "postal_code": postal_code,
            "city": city,
            "country": "FR",
        }
        try:
            await samples.request_sample(
                session,
                creator=creator,
                campaign_id=campaign_id,
                address=address,
                note="Pour le live de jeudi : je présenterai le coffret.",
                now=at,
            )
        except DomainError:
            return
        await session.commit()
