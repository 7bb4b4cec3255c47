"""The demo program's plan (pure): whatever today's date and settings, each group of sales lands
in the commission state it is meant to show."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from passerelle.orders.models import OrderStatus
from passerelle.seed.connect_plan import (
    DELIVERY,
    PAID_IN_RUN,
    CreatorSeed,
    ProgramLink,
    plan_buys,
    plan_clicks,
    plan_sales,
    timeline,
)

DELIVERED = {OrderStatus.delivered, OrderStatus.completed}


@pytest.mark.parametrize(("window_days", "day"), [(14, 1), (14, 28), (30, 15), (3, 1)])
def test_given_any_day_of_the_year_then_sales_are_paid_approved_pending_and_held_as_planned(
    window_days: int, day: int
) -> None:
    for hours in range(0, 366 * 24, 17):  # every day of the year, at varying hours
        now = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=hours)
        t = timeline(now, window_days=window_days, day=day, time_zone="Europe/Paris")
        sales = plan_sales(t, 2)
        approve = [s.paid_at + DELIVERY + t.window for s in sales]

        assert now - timedelta(days=40) < t.payday <= now - timedelta(days=3)
        assert all(t.start + timedelta(days=1) < s.paid_at < now for s in sales)
        assert all(a <= t.payday for a in approve[:PAID_IN_RUN])  # paid in the run
        assert all(t.payday < a <= now for a in approve[PAID_IN_RUN : PAID_IN_RUN + 4])  # approved, owed
        assert all(a > now for a in approve[PAID_IN_RUN + 4 : PAID_IN_RUN + 8])  # pending, dated
        assert all(s.until not in DELIVERED for s in sales[PAID_IN_RUN + 8 :])  # pending, not delivered
        flooded = [s for s in sales if s.seller == 1 and s.paid_at > t.payday]
        assert all(s.held == (s.paid_at > t.flood_at) for s in flooded)


def test_given_the_plan_then_every_buyer_clicked_the_creators_link_shortly_before_paying() -> None:
    now = datetime(2026, 11, 27, 3, tzinfo=UTC)
    t = timeline(now, window_days=14, day=1, time_zone="Europe/Paris")
    seeds = [
        CreatorSeed(c, "instagram.com", [ProgramLink(c * 10 + i, c, 1, 1, 100 + i, "/p/1") for i in range(3)])
        for c in (1, 2)
    ]
    rng = random.Random(1)
    buys = plan_buys(plan_sales(t, 2), seeds, [7, 8], rng)
    clicks = plan_clicks(t, seeds, buys, rng)

    by_visitor = {c.visitor: c for c in clicks}
    for buy in buys:
        click = by_visitor[buy.visitor]
        assert click.link == buy.link and click.link.creator_id == seeds[buy.sale.seller].creator_id
        assert timedelta(0) < buy.sale.paid_at - click.at <= DELIVERY  # inside any attribution window
    assert clicks == sorted(clicks, key=lambda c: c.at) and len(clicks) > 300
    assert all(t.start <= c.at < now for c in clicks)
