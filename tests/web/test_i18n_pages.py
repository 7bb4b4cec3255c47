"""Interface language and currency: switchers, cookies, profile, <html lang>."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select

from passerelle.accounts.models import User
from passerelle.deps import CURRENCY_COOKIE, LANG_COOKIE
from tests.factories import make_user
from tests.web.helpers import log_in, submit, text_of
from tests.web.marketplace import Marketplace


def html_lang(page: httpx.Response) -> str:
    found = re.search(r'<html lang="([^"]+)"', page.text)
    assert found
    return found.group(1)


async def test_given_the_language_switcher_then_the_interface_text_changes(
    web: httpx.AsyncClient, market: Marketplace
) -> None:
    french = await web.get("/", headers={"accept-language": "fr-FR,fr;q=0.9"})
    assert html_lang(french) == "fr" and "Nouveautés" in french.text and "Se connecter" in french.text

    switched = await submit(web, "/prefs", {"lang": "en", "next": "/search?q=parfum"})
    assert switched.status_code == 303 and switched.headers["location"] == "/search?q=parfum"
    assert web.cookies.get(LANG_COOKIE) == "en"

    english = await web.get("/")
    assert html_lang(english) == "en" and "New arrivals" in english.text and "Log in" in english.text
    assert "Grasse Rose eau de parfum" in english.text  # the product's English title too


async def test_given_a_content_language_without_ui_catalog_then_english_ui_with_german_formatting(
    web: httpx.AsyncClient, market: Marketplace
) -> None:
    await submit(web, "/prefs", {"lang": "de", "currency": "EUR", "next": "/"})
    page = await web.get(f"/p/{market.products['rose']}")
    text = text_of(page.text)
    assert html_lang(page) == "en" and "Delivery" in text
    assert 'lang="fr"' in page.text  # the French source title is marked as French
    assert "79,00 €" in text and "Vereinigtes Königreich" in text
    assert '<option value="de" lang="de" selected>' in page.text


async def test_given_a_logged_in_buyer_when_switching_then_the_profile_keeps_the_choice(
    web: httpx.AsyncClient, market: Marketplace, state
) -> None:
    buyer = await make_user(state, language="fr", currency="EUR")
    async with state.db.read_sessions() as session:  # the buyer's app token, looked up by a buying route
        warm = await state.api_token_users.user_copy(session, token=buyer.token)
    assert warm is not None and warm.currency == "EUR"
    await log_in(web, buyer.user.email)
    await submit(web, "/prefs", {"lang": "en", "next": "/"})
    await submit(web, "/prefs", {"currency": "USD", "next": "/"})
    async with state.db.sessions() as session:
        saved = (await session.execute(select(User).where(User.id == buyer.user.id))).scalar_one()
        by_token = await state.api_token_users.user_copy(session, token=buyer.token)
    assert (saved.language, saved.currency) == ("en", "USD")
    assert by_token is not None and (by_token.language, by_token.currency) == ("en", "USD")  # not the kept copy

    web.cookies.delete(LANG_COOKIE)
    web.cookies.delete(CURRENCY_COOKIE)
    page = await web.get(f"/p/{market.products['rose']}")
    assert html_lang(page) == "en" and "$85.72" in text_of(page.text)


async def test_given_unknown_choices_or_a_foreign_next_then_the_switcher_refuses_or_stays_home(
    web: httpx.AsyncClient, market: Marketplace
) -> None:
    assert (await submit(web, "/prefs", {"currency": "XXX", "next": "/"})).status_code == 422
    assert (await submit(web, "/prefs", {"lang": "tlh", "next": "/"})).status_code == 422
    away = await submit(web, "/prefs", {"currency": "GBP", "next": "https://evil.example/"})
    assert away.headers["location"] == "/"
    currencies = re.findall(r'<option value="([A-Z]{3})"', (await web.get("/")).text)
    assert {"EUR", "USD", "GBP", "JPY", "CHF"} <= set(currencies)


async def test_given_a_yen_buyer_then_prices_have_no_decimals(web: httpx.AsyncClient, market: Marketplace) -> None:
    page = await web.get(f"/p/{market.products['figue']}", params={"currency": "JPY", "lang": "en"})
    assert "¥5,688" in text_of(page.text)  # 35.00 EUR * 162.50
