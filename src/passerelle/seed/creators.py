"""`passerelle seed creators --count N`: bulk-load creator profiles with realistic shapes.

Followers follow a heavy tail (most creators are nano, a few are large), audiences cluster by
country and its language, 1-3 categories each, clicks and orders give a plausible conversion.
Rows go in with executemany, one transaction per batch; no ORM objects.
"""

from __future__ import annotations

import secrets
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import Table, insert

from passerelle.connect.features import CATEGORIES
from passerelle.connect.models import Creator
from passerelle.connect.service.creators import DEFAULT_TIERS
from passerelle.state import AppState

CREATORS: Table = Creator.__table__  # type: ignore[assignment]
BATCH = 20_000
# (country, language, weight)
AUDIENCES = [
    ("CN", "zh", 30), ("FR", "fr", 12), ("US", "en", 12), ("DE", "de", 8), ("ES", "es", 6), ("IT", "it", 5),
    ("GB", "en", 5), ("RU", "ru", 5), ("BR", "pt", 5), ("JP", "ja", 4), ("KR", "ko", 3), ("BE", "fr", 2),
    ("CA", "en", 2), ("MX", "es", 1),
]  # fmt: skip
NETWORKS = ["instagram", "tiktok", "youtube", "twitch", "blog"]


def _tiers(followers: np.ndarray[Any, Any], posts: np.ndarray[Any, Any]) -> list[str]:
    """rules.tier_for, vectorised: the best-ranked tier whose minimums are met."""
    out = np.full(followers.shape, "", dtype=object)
    for tier in sorted(DEFAULT_TIERS, key=lambda t: t.rank):
        out[(followers >= tier.min_followers) & (posts >= tier.min_posts)] = tier.tier
    return list(out)


def batch_rows(rng: np.random.Generator, start: int, size: int, tag: str, now: datetime) -> list[dict[str, Any]]:
    followers = np.minimum((rng.pareto(1.2, size) + 1) * 300, 50_000_000).astype(np.int64)
    posts = rng.poisson(80, size)
    weights = np.array([w for _, _, w in AUDIENCES], dtype=float)
    audience = rng.choice(len(AUDIENCES), size, p=weights / weights.sum())
    n_categories = rng.integers(1, 4, size)
    first_category = rng.zipf(1.6, size) % len(CATEGORIES)
    clicks = rng.poisson(np.sqrt(followers) * 2)
    orders = rng.binomial(clicks, rng.beta(2, 60, size))
    approved = rng.random(size)
    networks = rng.integers(0, len(NETWORKS), size)
    tiers = _tiers(followers, posts)
    # Plain Python lists: indexing numpy scalars row by row costs more than the insert.
    f_l, p_l, a_l, n_l, c_l = (
        followers.tolist(),
        posts.tolist(),
        audience.tolist(),
        n_categories.tolist(),
        clicks.tolist(),
    )
    first_l, o_l, ap_l, net_l = first_category.tolist(), orders.tolist(), approved.tolist(), networks.tolist()
    combos: dict[tuple[int, int], tuple[list[str], int]] = {}
    rows = []
    for i in range(size):
        country, language, _ = AUDIENCES[a_l[i]]
        key = (first_l[i], n_l[i])
        if key not in combos:
            idx = sorted({(key[0] + k * 7) % len(CATEGORIES) for k in range(key[1])})
            combos[key] = ([CATEGORIES[c] for c in idx], sum(1 << c for c in idx))
        cats, mask = combos[key]
        n = start + i
        status = "approved" if ap_l[i] < 0.9 else ("applied" if ap_l[i] < 0.98 else "rejected")
        rows.append(
            {
                "handle": f"{tag}{n}",
                "display_name": f"Creator {n}",
                "bio": "",
                "status": status,
                "tier": tiers[i],
                "channels": [{"network": NETWORKS[net_l[i]], "url": "", "followers": f_l[i]}],
                "followers": f_l[i],
                "posts": p_l[i],
                "countries": [country],
                "languages": [language],
                "categories": cats,
                "category_mask": mask,
                "main_country": country,
                "main_language": language,
                "clicks": c_l[i],
                "orders": o_l[i],
                "iban": "",
                "account_holder": "",
                "created_at": now,
            }
        )
    return rows


async def seed_creators(state: AppState, *, count: int, progress: Callable[[int], None] | None = None) -> float:
    """Insert `count` creators; returns the seconds it took."""
    started = time.perf_counter()
    rng = np.random.default_rng(11_11)
    tag = "s" + secrets.token_hex(3)
    now = datetime.now(UTC)
    done = 0
    while done < count:
        size = min(BATCH, count - done)
        rows = batch_rows(rng, done, size, tag, now)
        async with state.db.writing() as session:
            await session.execute(insert(CREATORS), rows)
        done += size
        if progress is not None:
            progress(done)
    return time.perf_counter() - started


def progress_bar(total: int) -> Callable[[int], None]:
    started = time.perf_counter()

    def show(done: int) -> None:
        width = 30
        filled = width * done // max(total, 1)
        rate = done / max(time.perf_counter() - started, 1e-9)
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,} creators, {rate:,.0f}/s")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return show
