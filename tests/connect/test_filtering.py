"""Known bots are not counted, floods from one address are capped (and flagged), people still get redirected."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from passerelle.connect.models import Click, FraudFlag
from passerelle.infra.ratelimit import MemoryTokenBucket
from passerelle.state import AppState
from tests.connect.helpers import click, make_creator, make_link, make_shop

BOTS = [
    "Googlebot/2.1 (+http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "curl/8.5.0",
    "python-requests/2.32.3",
    "",
]


async def clicks_stored(state: AppState) -> int:
    await state.connect.recorder.flush()
    async with state.db.read_sessions() as session:
        return int((await session.execute(select(func.count()).select_from(Click))).scalar_one())


async def test_given_known_bots_when_they_follow_a_link_then_they_are_redirected_but_not_counted(
    client: httpx.AsyncClient, state: AppState
) -> None:
    shop = await make_shop(client, state)
    creator, _ = await make_creator(client, state)
    code = await make_link(client, creator, shop)
    for agent in BOTS:
        client.cookies.clear()
        assert (await click(client, code, agent=agent)).status_code == 302
    assert await clicks_stored(state) == 0
    assert state.connect.recorder.stats.bots == len(BOTS)
    client.cookies.clear()
    await click(client, code)
    assert await clicks_stored(state) == 1


@pytest.mark.both_backends
async def test_given_a_click_flood_from_one_address_then_only_the_burst_counts_and_the_link_is_flagged(
    client: httpx.AsyncClient, state: AppState
) -> None:
    recorder = state.connect.recorder
    recorder.flood_flag_after = 5
    recorder.limiter = MemoryTokenBucket(rate=0.001, burst=recorder.ip_burst)  # no refill while the test runs
    shop = await make_shop(client, state)
    creator, creator_id = await make_creator(client, state)
    code = await make_link(client, creator, shop)
    burst = int(recorder.ip_burst)
    for _ in range(burst + 10):
        client.cookies.clear()  # a new visitor each time: only the address gives it away
        assert (await click(client, code)).status_code == 302
    assert await clicks_stored(state) == burst
    assert recorder.stats.floods == 10
    async with state.db.read_sessions() as session:
        (flag,) = (await session.execute(select(FraudFlag))).scalars()
    assert (flag.kind, flag.creator_id) == ("click_flood", creator_id)
