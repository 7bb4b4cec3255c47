"""Page tests: the in-process client sends `Accept: text/html` like a browser."""

from __future__ import annotations

import httpx
import pytest

from passerelle.state import AppState
from tests.web.helpers import HTML
from tests.web.marketplace import Marketplace, build_marketplace


@pytest.fixture
async def web(client: httpx.AsyncClient) -> httpx.AsyncClient:
    client.headers.update(HTML)
    return client


@pytest.fixture
async def market(state: AppState) -> Marketplace:
    return await build_marketplace(state)
