"""Weeks of the demo's influencer program, played in time order through the real code paths:
clicks through the click recorder (bots, flood cap, dedup, per-creator counters), credited
sales through checkout, the payment webhook and commission accrual (the pure attribution rules,
the ledger), deliveries through the order lifecycle, approvals when the return window closes,
a monthly payout run, then a click flood that the recorder's flood rule flags: the creator's
commissions after it are held for review.

The dates are placed around the last monthly payout day, so whatever today's date the demo has
commissions paid (in that run), approved (owed since), pending and held.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from passerelle.accounts.models import Role, User
from passerelle.connect.clicks import ClickRecorder, LinkTarget
from passerelle.connect.models import Campaign, Creator
from passerelle.connect.service import commissions, payouts, samples
from passerelle.errors import DomainError
from passerelle.merchants.models import MemberRole, MerchantMember
from passerelle.money import FxTable
from passerelle.orders.models import OrderStatus
from passerelle.orders.service import lifecycle, placement
from passerelle.payments import service as payments
from passerelle.payments.providers.base import WebhookEvent
from passerelle.state import AppState

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36"
BACKGROUND_CLICKS = 320  # visitors who look and do not buy
FLOOD_CLICKS = 160  # from one address within seconds: over the burst, then over the flag's cap
FLOOD_ADDRESS = "203.0.113.66"  # documentation range
PAID_IN_RUN = 10  # sales approved before the payout day, paid in its run
SPACING = timedelta(hours=60)
# (how long after payment, the status the merchant sets)
STEPS = ((4 * HOUR, OrderStatus.accepted), (DAY, OrderStatus.shipped), (3 * DAY, OrderStatus.delivered))
ADDRESSES = {
    "FR": ("12 rue de la République", "Lyon", "69002"),
    "ES": ("Calle de Alcalá 48", "Madrid", "28014"),
}


@dataclass(frozen=True)
class ProgramLink:
    link_id: int
    creator_id: int
    campaign_id: int | None
    merchant_id: int | None  # None: a live-room link
    sku_id: int | None  # what a buyer takes after clicking it (None: not a product link)
    url: str

    def target(self) -> LinkTarget:
        return LinkTarget(self.link_id, self.creator_id, self.campaign_id, self.url)


@dataclass(frozen=True)
class CreatorSeed:
    creator_id: int
    user_id: int
    referrer: str  # where their audience comes from
    links: list[ProgramLink]

    @property
    def sale_links(self) -> list[ProgramLink]:
        return [link for link in self.links if link.sku_id is not None]


@dataclass(frozen=True)
class Timeline:
    now: datetime
    start: datetime  # the program opened: campaigns, links, first clicks
    payday: datetime  # the last monthly run at least three days ago
    period: str  # its "YYYY-MM"
    window: timedelta  # the return window
    flood_at: datetime


@dataclass(frozen=True)
class Sale:
    seller: int  # index of the credited creator
    paid_at: datetime
    until: OrderStatus  # how far the order went
    held: bool = False  # sold after the flood: the creator is under review


@dataclass(frozen=True)
class PlannedClick:
    at: datetime
    link: ProgramLink
    visitor: str
    ip: str
    user_id: int | None
    referrer: str


def timeline(now: datetime, *, window_days: int, day: int, time_zone: str) -> Timeline:
    period, payday = payouts.run_time(now=now - 40 * DAY, day=day, time_zone=time_zone)
    while True:
        following, at = payouts.run_time(now=payday, day=day, time_zone=time_zone)
        if at > now - 3 * DAY:  # keep a few days after the run for commissions approved since
            break
        period, payday = following, at
    window = timedelta(days=window_days)
    first_sale = payday - window - 3 * DAY - HOUR - (PAID_IN_RUN - 1) * SPACING
    return Timeline(now, first_sale - 5 * DAY, payday, period, window, now - 3 * DAY)


def plan_sales(t: Timeline, creators: int) -> list[Sale]:
    """The sales, oldest first per group; the last creator is the one whose link is flooded."""
    flooded = creators - 1
    sales: list[Sale] = []
    for k in range(PAID_IN_RUN):  # delivered early enough to be approved by the payout day
        paid_at = t.payday - t.window - 3 * DAY - HOUR - k * SPACING
        sales.append(Sale(k % creators, paid_at, OrderStatus.completed if k % 3 == 0 else OrderStatus.delivered))
    for i in range(4):  # approved after the run: owed now
        delivered = t.payday - t.window + (t.now - t.payday) * (i + 1) / 5
        sales.append(Sale(i % creators, delivered - 3 * DAY, OrderStatus.delivered))
    for i in range(4):  # delivered, still inside the return window: pending with a date
        delivered = t.now - t.window + max(t.window - DAY, DAY) * (i + 1) / 5
        sales.append(Sale(i % creators, min(delivered, t.now - HOUR) - 3 * DAY, OrderStatus.delivered))
    sales += [  # not delivered yet: pending without a date
        Sale(0, t.now - 4 * DAY, OrderStatus.shipped),
        Sale(0, t.now - 1.5 * DAY, OrderStatus.accepted),
        Sale(flooded, t.flood_at - 12 * HOUR, OrderStatus.shipped),
    ]
    sales += [  # after the flood
        Sale(flooded, t.flood_at + DAY, OrderStatus.paid, held=True),
        Sale(flooded, t.flood_at + 2 * DAY, OrderStatus.accepted, held=True),
    ]
    return sales


def plan_clicks(
    t: Timeline, seeds: list[CreatorSeed], sales: list[Sale], buyers: list[User], rng: random.Random
) -> tuple[list[PlannedClick], list[str]]:
    """Each sale's click (its buyer's visitor id, which checkout carries to the order line), then
    visitors who only look, more of them lately. Returns the clicks and each sale's visitor."""
    clicks: list[PlannedClick] = []
    visitors: list[str] = []
    for n, sale in enumerate(sales):
        seed = seeds[sale.seller]
        visitor = rng.randbytes(16).hex()
        visitors.append(visitor)
        at = sale.paid_at - timedelta(seconds=rng.uniform(HOUR.total_seconds(), 3 * DAY.total_seconds()))
        link = seed.sale_links[n % len(seed.sale_links)]
        buyer = buyers[n % len(buyers)]
        clicks.append(PlannedClick(at, link, visitor, f"10.1.{n // 250}.{n % 250 + 1}", buyer.id, seed.referrer))
    span = (t.now - 10 * 60 * timedelta(seconds=1) - t.start).total_seconds()
    for i in range(BACKGROUND_CLICKS):
        seed = seeds[0] if rng.random() < 0.6 or len(seeds) == 1 else rng.choice(seeds[1:])
        at = t.start + timedelta(seconds=span * rng.random() ** 0.6)
        referrer = seed.referrer if rng.random() < 0.8 else ""
        ip = f"10.2.{i // 250}.{i % 250 + 1}"
        clicks.append(PlannedClick(at, rng.choice(seed.links), rng.randbytes(16).hex(), ip, None, referrer))
    return sorted(clicks, key=lambda c: c.at), visitors


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


async def seed_connect_history(state: AppState, seeds: list[CreatorSeed], t: Timeline) -> int:
    """Returns how many credited orders were made."""
    async with state.db.read_sessions() as session:
        buyers = list(
            (
                await session.execute(
                    select(User).where(User.role == Role.buyer, User.currency == "EUR").order_by(User.id).limit(2)
                )
            ).scalars()
        )
        merchant_ids = {link.merchant_id for s in seeds for link in s.sale_links}
        owners = dict(
            (
                await session.execute(
                    select(MerchantMember.merchant_id, MerchantMember.user_id).where(
                        MerchantMember.merchant_id.in_(merchant_ids), MerchantMember.role == MemberRole.owner
                    )
                )
            ).all()
        )
    if not buyers:
        return 0
    rng = random.Random(1111)
    sales = plan_sales(t, len(seeds))
    clicks, visitors = plan_clicks(t, seeds, sales, buyers, rng)
    settings = state.settings
    # Its own recorder: these clicks are weeks old and must not touch the live one's flood state.
    recorder = ClickRecorder(
        state.db, ip_rate=settings.connect_clicks_per_ip_per_second, ip_burst=settings.connect_click_burst
    )
    await _record(recorder, clicks)
    fx = await state.fx()
    order_ids: list[int] = []

    async def sell(n: int) -> None:
        sale = sales[n]
        seed = seeds[sale.seller]
        link = seed.sale_links[n % len(seed.sale_links)]
        buyer = buyers[n % len(buyers)]
        assert link.sku_id is not None and link.merchant_id is not None
        try:
            order_ids.append(
                await _sell(
                    state,
                    sale,
                    n,
                    sku_id=link.sku_id,
                    buyer_id=buyer.id,
                    owner_id=owners[link.merchant_id],
                    visitor=visitors[n],
                    fx=fx,
                    now=t.now,
                )
            )
        except DomainError:
            return  # e.g. a SKU sold out meanwhile: the demo has one sale less

    for n, sale in enumerate(sales):
        if not sale.held:
            await sell(n)
    await _approve(state, order_ids, at=t.payday)
    await _monthly_run(state, t)
    await _approve(state, order_ids, at=t.now)
    flooded = seeds[-1].sale_links[0]
    flood = [
        PlannedClick(t.flood_at + timedelta(seconds=k / 50), flooded, rng.randbytes(16).hex(), FLOOD_ADDRESS, None, "")
        for k in range(FLOOD_CLICKS)
    ]
    await _record(recorder, flood)
    for n, sale in enumerate(sales):
        if sale.held:
            await sell(n)
    await _ask_sample(state, seeds[0].creator_id, at=t.now - DAY)
    return len(order_ids)


async def _sell(
    state: AppState,
    sale: Sale,
    n: int,
    *,
    sku_id: int,
    buyer_id: int,
    owner_id: int,
    visitor: str,
    fx: FxTable,
    now: datetime,
) -> int:
    """One credited order, in one transaction: checkout with the visitor id on the line, the
    payment webhook, accrual at the payment time, then the merchant's (and buyer's) steps."""
    async with state.db.sessions() as session:
        buyer = await session.get(User, buyer_id)
        owner = await session.get(User, owner_id)
        assert buyer is not None and owner is not None
        line1, city, postal_code = ADDRESSES.get(buyer.country, ADDRESSES["FR"])
        quote = await placement.price(
            session,
            requests=[placement.LineRequest(sku_id, 1 + n % 4 // 3, attribution={"visitor": visitor})],
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
            now=sale.paid_at - 3 * 60 * timedelta(seconds=1),
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
        for after, status in STEPS:
            if _RANK[status] > _RANK[sale.until]:
                break
            await lifecycle.request_transition(
                session, actor=owner, order_id=order_id, to_status=status, now=sale.paid_at + after
            )
        confirmed = sale.paid_at + 4 * DAY
        if sale.until == OrderStatus.completed and confirmed < now:
            await lifecycle.request_transition(
                session, actor=buyer, order_id=order_id, to_status=OrderStatus.completed, now=confirmed
            )
        # The delivery's consumer (orders.status_changed): dates the approval; idempotent too.
        await commissions.schedule_approval(session, order_id=order_id, return_window_days=window)
        await session.commit()
    return order_id


_RANK = {
    status: rank
    for rank, status in enumerate(
        (OrderStatus.paid, OrderStatus.accepted, OrderStatus.shipped, OrderStatus.delivered, OrderStatus.completed)
    )
}


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


async def _ask_sample(state: AppState, creator_id: int, *, at: datetime) -> None:
    """The first creator asks the sample campaign for a box: the merchant's console shows it."""
    async with state.db.sessions() as session:
        campaign_id = (
            (
                await session.execute(
                    select(Campaign.id)
                    .where(Campaign.kind == "sample", Campaign.status == "active")
                    .order_by(Campaign.id)
                )
            )
            .scalars()
            .first()
        )
        creator = await session.get(Creator, creator_id)
        if campaign_id is None or creator is None:
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
