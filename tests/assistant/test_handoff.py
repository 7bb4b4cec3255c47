"""A hand-off opens a conversation with the product's (or order's) merchant; only that
merchant's staff see it, answer it in the console, and the buyer reads the answer."""

from __future__ import annotations

import httpx

from passerelle.assistant.runtime import Runtime
from passerelle.deps import CSRF_COOKIE
from passerelle.state import AppState
from tests.assistant.catalog import SeedCatalog
from tests.commerce import make_buyers
from tests.web.helpers import HTML, csrf_token, log_in, submit, text_of

ASK = "/api/v1/assistant/messages"


async def test_given_a_buyer_on_a_product_page_when_asking_for_the_seller_then_only_that_merchant_sees_it(
    app,
    state: AppState,
    shop: SeedCatalog,
    runtime: Runtime,  # type: ignore[no-untyped-def]
) -> None:
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40001))
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as api,
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as seller_browser,
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as rival_browser,
    ):
        (buyer,) = await make_buyers(state, 1)
        product = shop.products["Rose & Jasmine Eau de Parfum"]
        asked = await api.post(
            ASK,
            json={"text": "je voudrais parler au vendeur de ce parfum", "product_id": product},
            headers=buyer.headers,
        )
        body = asked.json()
        assert body["intent"] == "handoff"
        assert "Maison Florale" in body["reply"]
        conversation_id = body["conversation_id"]
        assert conversation_id
        assert body["links"] == [{"label": "Ma conversation", "url": f"/assistant/conversations/{conversation_id}"}]

        # The perfumer's owner sees it through the API and in the console...
        listed = await api.get(
            f"/api/v1/merchants/{shop.perfumer.id}/conversations", headers=shop.perfumer_owner.headers
        )
        assert [c["id"] for c in listed.json()] == [conversation_id]
        await log_in(seller_browser, shop.perfumer_owner.user.email)
        inbox = await seller_browser.get(f"/console/m/{shop.perfumer.id}/conversations", headers=HTML)
        assert inbox.status_code == 200
        assert "je voudrais parler au vendeur de ce parfum" in text_of(inbox.text)
        thread_url = f"/console/m/{shop.perfumer.id}/conversations/{conversation_id}"
        replied = await submit(
            seller_browser, thread_url, {"body": "Bonjour, il tient <b>8 heures</b>."}, token_from=thread_url
        )
        assert replied.status_code == 303
        thread = await seller_browser.get(thread_url, headers=HTML)
        assert "il tient &lt;b&gt;8 heures&lt;/b&gt;." in thread.text  # escaped, never markup

        # ...another merchant sees nothing of it, whichever way it asks.
        rival = shop.couturier_owner
        own_list = await api.get(f"/api/v1/merchants/{shop.couturier.id}/conversations", headers=rival.headers)
        assert own_list.json() == []
        assert (
            await api.get(f"/api/v1/merchants/{shop.perfumer.id}/conversations", headers=rival.headers)
        ).status_code in (403, 404)
        assert (
            await api.get(
                f"/api/v1/merchants/{shop.couturier.id}/conversations/{conversation_id}", headers=rival.headers
            )
        ).status_code == 404
        await log_in(rival_browser, rival.user.email)
        assert (await rival_browser.get(thread_url, headers=HTML)).status_code in (403, 404)
        own_thread = f"/console/m/{shop.couturier.id}/conversations/{conversation_id}"
        assert (await rival_browser.get(own_thread, headers=HTML)).status_code == 404
        token = await csrf_token(rival_browser, "/")
        forged = await rival_browser.post(own_thread, data={"body": "hi", "csrf_token": token}, headers=HTML)
        assert forged.status_code == 404

        # The buyer reads the answer, and another buyer cannot.
        mine = await api.get(f"/api/v1/assistant/conversations/{conversation_id}", headers=buyer.headers)
        assert [m["author"] for m in mine.json()["messages"]] == ["buyer", "merchant"]
        (other,) = await make_buyers(state, 1)
        assert (
            await api.get(f"/api/v1/assistant/conversations/{conversation_id}", headers=other.headers)
        ).status_code == 404
        follow_up = await api.post(
            ASK, json={"text": "Merci !", "conversation_id": conversation_id}, headers=other.headers
        )
        assert follow_up.status_code == 404
        follow_up = await api.post(
            ASK, json={"text": "Merci !", "conversation_id": conversation_id}, headers=buyer.headers
        )
        assert follow_up.status_code == 200 and follow_up.json()["conversation_id"] == conversation_id


async def test_given_a_guest_when_asking_for_a_human_then_nothing_is_written_and_they_are_asked_to_log_in(
    client: httpx.AsyncClient, state: AppState, shop: SeedCatalog, runtime: Runtime
) -> None:
    body = (
        await client.post(ASK, json={"text": "talk to the seller", "product_id": shop.products["Strawberry jam"]})
    ).json()
    assert body["intent"] == "handoff" and body["conversation_id"] is None
    assert body["links"][0]["url"].startswith("/login")
    listed = await client.get(f"/api/v1/merchants/{shop.grocer.id}/conversations", headers=shop.perfumer_owner.headers)
    assert listed.status_code in (403, 404)


async def test_given_a_cookie_session_then_the_widget_must_send_the_csrf_header(
    client: httpx.AsyncClient, state: AppState, shop: SeedCatalog, runtime: Runtime
) -> None:
    (buyer,) = await make_buyers(state, 1)
    await log_in(client, buyer.user.email)
    refused = await client.post(ASK, json={"text": "where is my order?"})
    assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed"
    allowed = await client.post(
        ASK, json={"text": "where is my order?"}, headers={"X-CSRF-Token": client.cookies[CSRF_COOKIE]}
    )
    assert allowed.status_code == 200 and allowed.json()["reply"] == "You have no orders yet."


async def test_given_an_owner_in_the_console_when_setting_the_return_window_then_the_assistant_quotes_it(
    client: httpx.AsyncClient, state: AppState, shop: SeedCatalog, runtime: Runtime
) -> None:
    await log_in(client, shop.grocer_owner.user.email)
    inbox = f"/console/m/{shop.grocer.id}/conversations"
    saved = await submit(client, f"/console/m/{shop.grocer.id}/return-policy", {"return_days": "7"}, token_from=inbox)
    assert saved.status_code == 303
    runtime.invalidate()
    body = (
        await client.post(
            ASK,
            json={"text": "can I return it?", "product_id": shop.products["Strawberry jam"]},
            headers={"X-CSRF-Token": client.cookies[CSRF_COOKIE]},
        )
    ).json()
    assert "Épicerie du Sud accepts returns within 7 days" in body["reply"]
