"""Friendly error pages for people, JSON problems for the API, on the same app."""

from __future__ import annotations

import httpx

from tests.web.helpers import text_of


async def test_given_an_unknown_page_then_a_friendly_404_in_the_visitors_language(web: httpx.AsyncClient) -> None:
    page = await web.get("/nulle-part", headers={"accept-language": "fr"})
    assert page.status_code == 404
    assert "Page introuvable" in page.text and 'href="/"' in page.text

    english = await web.get("/p/999999", headers={"accept-language": "en"})
    assert english.status_code == 404 and "Page not found" in english.text
    assert (await web.get("/p/not-a-number")).status_code == 404


async def test_given_a_protected_page_and_no_session_then_401_links_to_login(web: httpx.AsyncClient) -> None:
    page = await web.get("/console/apply")
    assert page.status_code == 401
    assert 'href="/login?next=/console/apply"' in page.text


async def test_given_the_api_then_errors_stay_json(web: httpx.AsyncClient) -> None:
    response = await web.get("/api/v1/products/999999", headers={"accept": "application/json"})
    assert response.status_code == 404 and response.json()["code"] == "not_found"


async def test_given_an_unexpected_failure_then_a_500_page_that_reveals_nothing(app, state) -> None:
    @app.app.get("/boom", include_in_schema=False)  # the FastAPI app behind the fast path
    async def boom() -> None:
        raise RuntimeError("secret database detail")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        page = await client.get("/boom", headers={"accept": "text/html"})
    assert page.status_code == 500
    assert "secret" not in page.text
    assert "Un problème est survenu" in text_of(page.text)
