"""The program's pages: apply through the form, bulk review by an operator only, escaped output,
CSRF on every form."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from passerelle.accounts.models import Role
from passerelle.connect.models import Creator
from passerelle.state import AppState
from tests.factories import make_user
from tests.web.helpers import HTML, log_in, submit, text_of


async def test_given_applications_when_an_operator_approves_them_in_bulk_then_their_public_pages_open(
    client: httpx.AsyncClient, state: AppState
) -> None:
    client.headers.update(HTML)
    handles = []
    for name in ("<script>alert(1)</script>", "Zoé"):
        client.cookies.clear()
        user = await make_user(state)
        await log_in(client, user.user.email)
        handle = f"user{user.user.id}.fr"
        applied = await submit(
            client,
            "/creators/apply",
            {
                "handle": handle,
                "display_name": name,
                "network": "tiktok",
                "followers": "12 000",
                "posts": "60",
                "countries": "FR, BE",
                "languages": "fr",
                "categories": ["beauty", "fashion"],
            },  # fmt: skip
            token_from="/creators/apply",
        )
        assert applied.status_code == 303, applied.text
        waiting = await client.get(applied.headers["location"])
        assert "Votre candidature attend d’être examinée." in waiting.text  # the buyer's account is French
        handles.append(handle)
    assert (await client.get(f"/creators/{handles[0]}")).status_code == 404  # not approved yet

    no_csrf = await client.post("/operator/creators/review", data={"decision": "approve"})
    assert no_csrf.status_code == 403
    buyer_review = await submit(client, "/operator/creators/review", {"decision": "approve", "creator_ids": ["1"]})
    assert buyer_review.status_code == 403

    client.cookies.clear()
    operator = await make_user(state, role=Role.operator)
    await log_in(client, operator.user.email)
    queue = await client.get("/operator/creators")
    assert queue.status_code == 200 and "&lt;script&gt;" in queue.text and "<script>alert" not in queue.text
    async with state.db.read_sessions() as session:
        ids = [str(i) for i in (await session.execute(select(Creator.id).order_by(Creator.id))).scalars()]
    reviewed = await submit(
        client,
        "/operator/creators/review",
        {"decision": "approve", "creator_ids": ids},
        token_from="/operator/creators",
    )
    assert reviewed.status_code == 303 and reviewed.headers["location"] == "/operator/creators?done=2"
    public = await client.get(f"/creators/{handles[1]}")
    assert public.status_code == 200 and "Zoé" in text_of(public.text) and "micro" in public.text


async def test_given_a_seller_when_opening_a_campaign_from_the_page_then_it_lists_with_its_rate(
    client: httpx.AsyncClient, state: AppState
) -> None:
    from tests.factories import make_merchant

    client.headers.update(HTML)
    seller = await make_user(state)
    shop = await make_merchant(state, seller)
    other = await make_user(state)
    await log_in(client, other.user.email)
    assert (await client.get(f"/console/m/{shop.id}/creators")).status_code == 404
    client.cookies.clear()
    await log_in(client, seller.user.email)
    made = await submit(
        client,
        f"/console/m/{shop.id}/campaigns",
        {"title": "Noël", "rate_percent": "12,5", "categories": ["beauty", "nope"]},
        token_from=f"/console/m/{shop.id}/creators",
    )
    assert made.status_code == 303, made.text
    page = await client.get(made.headers["location"])
    assert "La campagne est ouverte aux créateurs." in page.text and "12,5 %" in text_of(page.text)
    # The console's section tabs lead here too.
    assert f'href="/console/m/{shop.id}/creators" aria-current="page"' in page.text


async def test_given_an_approved_creator_then_the_dashboard_suggests_campaigns_to_join(
    client: httpx.AsyncClient, state: AppState
) -> None:
    from tests.connect.helpers import make_creator, make_shop

    shop = await make_shop(client, state)
    creator, creator_id = await make_creator(client, state)
    client.headers.update(HTML)
    await log_in(client, creator.user.email)
    dashboard = await client.get("/connect")
    assert "Campagnes pour vous" in dashboard.text and "Rentrée" in dashboard.text
    joined = await submit(client, f"/connect/campaigns/{shop.campaign_id}/join", {}, token_from="/connect")
    assert joined.status_code == 303
    async with state.db.read_sessions() as session:
        from passerelle.connect.models import CampaignMember

        assert await session.get(CampaignMember, (shop.campaign_id, creator_id)) is not None
    # Joined: no longer offered as a campaign to join.
    assert "Rentrée" not in (await client.get("/connect")).text
