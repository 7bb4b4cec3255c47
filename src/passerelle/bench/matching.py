"""`passerelle bench matching`: recommended creators over the configured database (seed it with
`passerelle seed creators` first): index build time, then query latency for varied campaigns."""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

from passerelle.bench.latency import percentile
from passerelle.config import load_settings
from passerelle.connect.features import CATEGORIES
from passerelle.connect.matching import MatchIndex
from passerelle.state import AppState

COUNTRIES = ["FR", "DE", "US", "CN", "ES", "IT", "BR", "JP"]
LANGUAGES = ["fr", "de", "en", "zh", "es", "it", "pt", "ja"]


async def _run(queries: int) -> dict[str, Any]:
    state = AppState.from_settings(load_settings())
    try:
        index = MatchIndex()
        started = time.perf_counter()
        await index.build(state.db)
        build_s = time.perf_counter() - started
        rng = random.Random(7)
        samples = []
        for _ in range(queries):
            t = time.perf_counter()
            index.recommend(
                categories=rng.sample(CATEGORIES, rng.randint(1, 3)),
                countries=rng.sample(COUNTRIES, rng.randint(1, 2)),
                languages=rng.sample(LANGUAGES, rng.randint(1, 2)),
                limit=20,
            )
            samples.append(time.perf_counter() - t)
        return {
            "creators_indexed": len(index),
            "index_build_s": round(build_s, 2),
            "queries": queries,
            "p50_ms": percentile(samples, 0.5),
            "p99_ms": percentile(samples, 0.99),
            "max_ms": round(max(samples) * 1000, 2),
        }
    finally:
        await state.db.dispose()


def run(*, queries: int = 200) -> dict[str, Any]:
    return asyncio.run(_run(queries))
