"""Campaigns: targeted collaborations pay their higher rate, fixed-fee tasks pay once, owners only,
and matching recommends creators with the reasons."""

from __future__ import annotations

import httpx
import numpy as np
from sqlalchemy import select

from passerelle.connect.matching import MatchIndex
from passerelle.connect.models import Campaign, Commission, Creator
from passerelle.connect.service.ledger import owed_account
from passerelle.ledger import service as ledger
from passerelle.state import AppState
from tests.connect.helpers import buy, click, make_creator, make_link, make_shop
from tests.factories import make_user
from tests.web.helpers import HTML, log_in, text_of


async def test_given_a_targeted_collaboration_when_the_invited_creator_sells_then_the_higher_rate_applies(
    client: httpx.AsyncClient, state: AppState
) -> None:
    shop = await make_shop(client, state, price=10000, rate_bp=500)
    creator, creator_id = await make_creator(client, state)
    targeted = await client.post(
        "/api/v1/campaigns",
        json={"merchant_id": shop.merchant.id, "kind": "targeted", "title": "Ambassadeurs", "rate_bp": 2000},
        headers=shop.seller.headers,
    )
    campaign_id = targeted.json()["id"]
    refused = await client.post(f"/api/v1/campaigns/{campaign_id}/join", headers=creator.headers)
    assert refused.status_code == 409 and refused.json()["code"] == "invitation_only"
    invited = await client.post(
        f"/api/v1/campaigns/{campaign_id}/invitations",
        json={"creator_ids": [creator_id], "rate_bp": 2000},
        headers=shop.seller.headers,
    )
    assert invited.json() == {"invited": 1}
    assert (await client.post(f"/api/v1/campaigns/{campaign_id}/join", headers=creator.headers)).status_code == 204
    await click(client, await make_link(client, creator, shop))
    await state.connect.recorder.flush()
    _, order_id = await buy(client, state, shop)
    async with state.db.read_sessions() as session:
        (commission,) = (await session.execute(select(Commission).where(Commission.order_id == order_id))).scalars()
    assert (commission.rate_bp, commission.amount, commission.detail["scope"]) == (2000, 2000, "targeted")


async def test_given_a_task_campaign_when_the_merchant_confirms_twice_then_the_fee_is_owed_once(
    client: httpx.AsyncClient, state: AppState
) -> None:
    shop = await make_shop(client, state)
    creator, creator_id = await make_creator(client, state)
    task = await client.post(
        "/api/v1/campaigns",
        json={
            "merchant_id": shop.merchant.id,
            "kind": "task",
            "title": "Un live",
            "task": "One live stream featuring the rose",
            "fixed_fee_amount": 15000,
        },
        headers=shop.seller.headers,
    )
    campaign_id = task.json()["id"]
    assert (await client.post(f"/api/v1/campaigns/{campaign_id}/join", headers=creator.headers)).status_code == 204
    outsider = await make_user(state)
    forbidden = await client.post(f"/api/v1/campaigns/{campaign_id}/tasks/{creator_id}/done", headers=outsider.headers)
    assert forbidden.status_code == 404  # another merchant's campaign does not exist for an outsider
    for expected in (True, False):
        done = await client.post(
            f"/api/v1/campaigns/{campaign_id}/tasks/{creator_id}/done", headers=shop.seller.headers
        )
        assert done.json()["paid"] is expected
    async with state.db.read_sessions() as session:
        assert await ledger.balance(session, account=owed_account(creator_id), currency="EUR") == -15000


async def test_given_two_merchants_then_neither_sees_the_others_creator_data(
    client: httpx.AsyncClient, state: AppState
) -> None:
    shop_a, shop_b = await make_shop(client, state), await make_shop(client, state)
    creator, _ = await make_creator(client, state)
    for path in (
        f"/api/v1/merchants/{shop_a.merchant.id}/connect/dashboard",
        f"/api/v1/merchants/{shop_a.merchant.id}/campaigns",
        f"/api/v1/campaigns/{shop_a.campaign_id}/recommended-creators",
    ):
        # Not staff of that merchant: answered as if it did not exist.
        assert (await client.get(path, headers=shop_b.seller.headers)).status_code == 404, path
        assert (await client.get(path, headers=creator.headers)).status_code == 404, path
    assert (await client.get("/api/v1/operator/connect/dashboard", headers=shop_a.seller.headers)).status_code == 403
    assert (await client.get("/api/v1/creators/me/dashboard", headers=shop_a.seller.headers)).status_code == 404


async def test_given_creators_when_a_merchant_asks_for_recommendations_then_fit_comes_first_with_reasons(
    client: httpx.AsyncClient, state: AppState
) -> None:
    shop = await make_shop(client, state)  # its campaign wants "beauty"
    _, beauty_fr = await make_creator(client, state, countries=["FR"], languages=["fr"], categories=["beauty"])
    _, games_jp = await make_creator(client, state, countries=["JP"], languages=["ja"], categories=["games"])
    await client.put(
        f"/api/v1/campaigns/{shop.campaign_id}/rates",
        json={"scope": "store", "rate_bp": 1200},
        headers=shop.seller.headers,
    )
    state.connect.matcher = None  # built on first use from the database
    found = await client.get(f"/api/v1/campaigns/{shop.campaign_id}/recommended-creators", headers=shop.seller.headers)
    assert found.status_code == 200, found.text
    ranked = [m["id"] for m in found.json()]
    assert ranked.index(beauty_fr) < ranked.index(games_jp)
    assert found.json()[0]["reasons"]["categories"] == ["beauty"]


def test_given_an_index_then_country_and_language_fit_rank_and_are_explained() -> None:
    index = MatchIndex()
    index.country_codes, index.language_codes = {"FR": 1, "DE": 2}, {"fr": 1, "de": 2}
    index.ids = np.array([10, 11, 12], dtype=np.int64)
    index.masks = np.array([1, 1, 2], dtype=np.int64)  # beauty, beauty, fashion
    index.countries = np.array([2, 1, 1], dtype=np.int16)
    index.languages = np.array([2, 1, 1], dtype=np.int16)
    index.conv = np.array([0.02, 0.02, 0.5], dtype=np.float32)
    index.reach = np.array([1, 1, 1], dtype=np.float32)
    index._precompute()
    found = index.recommend(categories=["beauty"], countries=["FR"], languages=["fr"], limit=3)
    # 11: category + country + language; 12: country + language + the best conversion; 10: category only.
    assert [m.id for m in found] == [11, 12, 10]
    assert found[0].reasons == {"categories": ["beauty"], "conversion_bp": 200, "country": "FR", "language": "fr"}


async def test_given_a_rate_cut_then_existing_members_keep_the_old_rate_until_the_notice_ends(
    client: httpx.AsyncClient, state: AppState
) -> None:
    shop = await make_shop(client, state, price=10000, rate_bp=1000)
    member, member_id = await make_creator(client, state)
    newcomer, newcomer_id = await make_creator(client, state)
    assert (await client.post(f"/api/v1/campaigns/{shop.campaign_id}/join", headers=member.headers)).status_code == 204
    cut = await client.put(
        f"/api/v1/campaigns/{shop.campaign_id}/rates",
        json={"scope": "store", "rate_bp": 400},
        headers=shop.seller.headers,
    )
    assert cut.status_code == 204
    assert (
        await client.post(f"/api/v1/campaigns/{shop.campaign_id}/join", headers=newcomer.headers)
    ).status_code == 204
    rates = {}
    for creator, creator_id in ((member, member_id), (newcomer, newcomer_id)):
        client.cookies.clear()
        await click(client, await make_link(client, creator, shop))
        await state.connect.recorder.flush()
        _, order_id = await buy(client, state, shop)
        async with state.db.read_sessions() as session:
            (commission,) = (await session.execute(select(Commission).where(Commission.order_id == order_id))).scalars()
        rates[creator_id] = commission.rate_bp
    assert rates == {member_id: 1000, newcomer_id: 400}


async def test_given_campaigns_when_a_creator_asks_then_fitting_ones_come_first(
    client: httpx.AsyncClient, state: AppState
) -> None:
    beauty = await make_shop(client, state)  # "beauty"
    games = await client.post(
        "/api/v1/campaigns",
        json={
            "merchant_id": beauty.merchant.id,
            "kind": "open",
            "title": "Jeux",
            "rate_bp": 900,
            "categories": ["games"],
        },
        headers=beauty.seller.headers,
    )
    creator, _ = await make_creator(client, state, categories=["beauty"])
    found = (await client.get("/api/v1/creators/me/recommended-campaigns", headers=creator.headers)).json()
    assert [m["id"] for m in found][:2] == [beauty.campaign_id, games.json()["id"]]
    assert found[0]["reasons"]["categories"] == ["beauty"] and found[0]["title"] == "Rentrée"


async def test_given_a_campaign_then_its_page_lists_the_creators_who_fit_best_with_why_and_only_for_its_staff(
    client: httpx.AsyncClient, state: AppState
) -> None:
    shop, other_shop = await make_shop(client, state), await make_shop(client, state)  # both want "beauty"
    _, beauty_fr_id = await make_creator(client, state, countries=["FR"], languages=["fr"], categories=["beauty"])
    _, games_jp_id = await make_creator(client, state, countries=["JP"], languages=["ja"], categories=["games"])
    state.connect.matcher = None
    async with state.db.writing() as session:
        campaign = await session.get(Campaign, shop.campaign_id)
        assert campaign is not None
        campaign.countries, campaign.languages = ["FR"], ["fr"]
    async with state.db.read_sessions() as session:
        handles = dict((await session.execute(select(Creator.id, Creator.handle))).all())
    path = f"/console/m/{shop.merchant.id}/campaigns/{shop.campaign_id}/creators"
    client.headers.update(HTML)

    await log_in(client, other_shop.seller.user.email)
    assert (await client.get(path)).status_code == 404  # another shop's staff
    foreign = f"/console/m/{other_shop.merchant.id}/campaigns/{shop.campaign_id}/creators"
    assert (await client.get(foreign)).status_code == 404  # its own console, someone else's campaign
    client.cookies.clear()
    await log_in(client, shop.seller.user.email)
    page = await client.get(path)

    assert page.status_code == 200, page.text
    shown = text_of(page.text)
    beauty_fr, games_jp = f"@{handles[beauty_fr_id]}", f"@{handles[games_jp_id]}"
    assert shown.index(beauty_fr) < shown.index(games_jp)
    assert f"{beauty_fr} Beauté France · " in shown  # why it fits, in the reader's language
    creators_page = await client.get(f"/console/m/{shop.merchant.id}/creators")
    assert f'href="{path}"' in creators_page.text
