"""Assistant tests: the fixed catalog on a fresh database, and the app's assistant runtime."""

from __future__ import annotations

import pytest

from passerelle.assistant.runtime import Runtime, runtime_of
from passerelle.state import AppState
from tests.assistant.catalog import SeedCatalog, seed_catalog


@pytest.fixture
async def shop(state: AppState) -> SeedCatalog:
    return await seed_catalog(state)


@pytest.fixture
def runtime(app, state: AppState) -> Runtime:  # type: ignore[no-untyped-def]
    """The runtime the app will use, with limits high enough for a test to ask many questions."""
    found = runtime_of(app.app.state, state)
    found.ip_limiter.rate = found.ip_limiter.burst = 1_000_000
    found.account_limiter.rate = found.account_limiter.burst = 1_000_000
    return found
