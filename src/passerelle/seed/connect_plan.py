"""The demo program's history as a plan, pure (no I/O): when each credited sale is paid and how
far its order goes, which link and buyer it comes from, and the clicks around it.

Dates are placed around the last monthly payout day, so whatever today's date the demo has
commissions paid in that run, approved since (owed), pending (inside the return window or not
delivered yet) and held (sold after a click flood).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from passerelle.connect.clicks import LinkTarget
from passerelle.connect.service.payouts import run_time
from passerelle.orders.models import OrderStatus

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
BACKGROUND_CLICKS = 320  # visitors who look and do not buy
FLOOD_CLICKS = 160  # from one address within seconds: past the burst, then past the flag's cap
FLOOD_ADDRESS = "203.0.113.66"  # documentation range
PAID_IN_RUN = 10  # sales approved before the payout day, paid in its run
SPACING = timedelta(hours=60)
DELIVERY = 3 * DAY  # payment to delivery (see connect_history.ACCEPTED and SHIPPED)


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
    until: OrderStatus  # how far the order goes
    held: bool = False  # sold after the flood: the creator is under review


@dataclass(frozen=True)
class Buy:
    """A sale with who buys what, through which link, under which visitor id."""

    number: int
    sale: Sale
    link: ProgramLink
    buyer_id: int
    visitor: str


@dataclass(frozen=True)
class PlannedClick:
    at: datetime
    link: ProgramLink
    visitor: str
    ip: str
    user_id: int | None
    referrer: str


def timeline(now: datetime, *, window_days: int, day: int, time_zone: str) -> Timeline:
    period, payday = run_time(now=now - 40 * DAY, day=day, time_zone=time_zone)
    while True:
        following, at = run_time(now=payday, day=day, time_zone=time_zone)
        if at > now - 3 * DAY:  # a few days after the run, for commissions approved since
            break
        period, payday = following, at
    window = timedelta(days=window_days)
    first_sale = payday - window - DELIVERY - HOUR - (PAID_IN_RUN - 1) * SPACING
    return Timeline(now, first_sale - 5 * DAY, payday, period, window, now - 3 * DAY)


def plan_sales(t: Timeline, creators: int) -> list[Sale]:
    """The sales, group by group; the last creator is the one whose link is flooded."""
    flooded = creators - 1
    sales: list[Sale] = []
    for k in range(PAID_IN_RUN):  # delivered early enough to be approved by the payout day
        paid_at = t.payday - t.window - DELIVERY - HOUR - k * SPACING
        sales.append(Sale(k % creators, paid_at, OrderStatus.completed if k % 3 == 0 else OrderStatus.delivered))
    for i in range(4):  # approved after the run: owed now
        delivered = t.payday - t.window + (t.now - t.payday) * (i + 1) / 5
        sales.append(Sale(i % creators, delivered - DELIVERY, OrderStatus.delivered))
    for i in range(4):  # delivered, still inside the return window: pending with a date
        delivered = t.now - t.window + max(t.window - DAY, DAY) * (i + 1) / 5
        sales.append(Sale(i % creators, min(delivered, t.now - HOUR) - DELIVERY, OrderStatus.delivered))
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


def plan_buys(sales: list[Sale], seeds: list[CreatorSeed], buyer_ids: list[int], rng: random.Random) -> list[Buy]:
    """Each creator's sales go round their product links in turn; any demo buyer may buy."""
    made: dict[int, int] = {}
    buys = []
    for n, sale in enumerate(sales):
        links = seeds[sale.seller].sale_links
        turn = made[sale.seller] = made.get(sale.seller, -1) + 1
        buys.append(Buy(n, sale, links[turn % len(links)], rng.choice(buyer_ids), rng.randbytes(16).hex()))
    return buys


def plan_clicks(t: Timeline, seeds: list[CreatorSeed], buys: list[Buy], rng: random.Random) -> list[PlannedClick]:
    """Each buy's click (its visitor id, which checkout carries to the order line) a few hours to
    days before paying, then visitors who only look, more of them lately. In time order."""
    referrer = {seed.creator_id: seed.referrer for seed in seeds}
    clicks: list[PlannedClick] = []
    for b in buys:
        at = b.sale.paid_at - timedelta(seconds=rng.uniform(HOUR.total_seconds(), DELIVERY.total_seconds()))
        ip = f"10.1.{b.number // 250}.{b.number % 250 + 1}"
        clicks.append(PlannedClick(at, b.link, b.visitor, ip, b.buyer_id, referrer[b.link.creator_id]))
    span = (t.now - timedelta(minutes=10) - t.start).total_seconds()
    for i in range(BACKGROUND_CLICKS):
        seed = seeds[0] if rng.random() < 0.6 or len(seeds) == 1 else rng.choice(seeds[1:])
        at = t.start + timedelta(seconds=span * rng.random() ** 0.6)
        came_from = seed.referrer if rng.random() < 0.8 else ""
        ip = f"10.2.{i // 250}.{i % 250 + 1}"
        clicks.append(PlannedClick(at, rng.choice(seed.links), rng.randbytes(16).hex(), ip, None, came_from))
    return sorted(clicks, key=lambda c: c.at)


def plan_flood(t: Timeline, link: ProgramLink, rng: random.Random) -> list[PlannedClick]:
    """A script hitting one link from one address, a new cookie each time, 50 times a second."""
    return [
        PlannedClick(t.flood_at + timedelta(seconds=k / 50), link, rng.randbytes(16).hex(), FLOOD_ADDRESS, None, "")
        for k in range(FLOOD_CLICKS)
    ]
