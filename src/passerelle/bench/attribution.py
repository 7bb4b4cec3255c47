"""`passerelle bench attribution`: attribute N orders with the pure rules over in-memory data
(clicks per visitor, promo codes, live rooms, rates), the same functions the payment path uses.
Data is generated before the clock starts; the timed loop is attribution + commission + split."""

from __future__ import annotations

import random
import time
from typing import Any

from passerelle.connect import rules

DAY = 86400


def _world(orders: int, creators: int, seed: int = 1111) -> tuple[list[Any], dict[int, list[rules.Touch]]]:
    rng = random.Random(seed)
    now = 400 * DAY
    visitors = max(1, orders // 2)
    touches: dict[int, list[rules.Touch]] = {}
    shop_of = [rng.randrange(1, 1001) for _ in range(visitors)]  # the store a visitor's links mostly lead to
    for v in range(visitors):
        clicks = []
        for _ in range(rng.choice((0, 1, 1, 2, 3))):
            creator = rng.randrange(1, creators + 1)
            merchant = shop_of[v] if rng.random() < 0.9 else None
            at = now - rng.uniform(0, 45) * DAY
            clicks.append(rules.Touch(creator, creator * 7, None, merchant, at, rng.choice((7, 30, 30, 60)) * DAY))
        touches[v] = clicks
    batch = []
    for _ in range(orders):
        visitor = rng.randrange(visitors)
        merchant = shop_of[visitor] if rng.random() < 0.8 else rng.randrange(1, 1001)
        code = rules.CodeUse(rng.randrange(1, creators + 1), None, "C") if rng.random() < 0.08 else None
        room = None
        if rng.random() < 0.05:
            host = rng.randrange(1, creators + 1)
            room = rules.Room(
                1, host, tuple((rng.randrange(1, creators + 1), 2000) for _ in range(rng.randrange(0, 3)))
            )
        batch.append((merchant, visitor, code, room, rng.randrange(500, 50_000), rng.choice((500, 800, 1000, 1500))))
    return batch, touches


def run(*, orders: int = 1_000_000, creators: int = 100_000) -> dict[str, Any]:
    batch, touches = _world(orders, creators)
    attribute, commission, split = rules.attribute, rules.commission, rules.split
    paid_at = 400 * DAY
    by_rule: dict[str, int] = {}
    credited = 0
    started = time.perf_counter()
    for merchant, visitor, code, room, amount, rate_bp in batch:
        decision = attribute(
            paid_at=paid_at, merchant_id=merchant, touches=touches[visitor], code=code, room=room, mode="last"
        )
        if decision is None:
            continue
        pot = commission(amount, rate_bp)
        parts = split(pot, decision.shares) if len(decision.shares) > 1 else (pot,)
        credited += sum(parts)
        by_rule[decision.rule] = by_rule.get(decision.rule, 0) + 1
    seconds = time.perf_counter() - started
    return {
        "orders": orders,
        "orders_per_s": round(orders / seconds),
        "seconds": round(seconds, 3),
        "attributed": sum(by_rule.values()),
        "by_rule": by_rule,
        "credited_minor": credited,
    }
