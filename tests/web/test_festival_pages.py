"""Festival pages: the home banner, /festival, and a deal page's countdown and buy button."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import httpx

from passerelle.infra.clock import FrozenClock
from passerelle.state import AppState
from tests.festival.test_deals_api import festival_with_deal
from tests.web.helpers import HTML, text_of


def _iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def test_given_a_running_festival_then_the_home_page_shows_its_banner_with_a_countdown(
    client: httpx.AsyncClient, state: AppState
) -> None:
    await festival_with_deal(client, state)
    home = await client.get("/", headers=HTML)
    assert home.status_code == 200
    banner = re.search(r'<section class="festival-banner".*?</section>', home.text, re.S)
    assert banner, home.text[:500]
    assert "11.11" in banner.group(0) and 'href="/festival"' in banner.group(0)
    assert "data-countdown" in banner.group(0) and "data-server-now=" in banner.group(0)
    assert "Se termine dans" in text_of(banner.group(0))  # running: counts down to its end


async def test_given_no_festival_then_the_home_page_has_no_banner_and_festival_says_so(
    client: httpx.AsyncClient,
) -> None:
    assert "festival-banner" not in (await client.get("/", headers=HTML)).text
    page = await client.get("/festival", headers={**HTML, "accept-language": "en"})
    assert page.status_code == 200
    assert "No festival is planned right now." in page.text


async def test_given_a_deal_then_festival_lists_it_with_prices_remaining_and_a_countdown(
    client: httpx.AsyncClient, state: AppState
) -> None:
    setup = await festival_with_deal(client, state, deal_stock=10)
    page = await client.get("/festival", headers={**HTML, "accept-language": "en"})
    assert page.status_code == 200
    card = re.search(r'<article class="deal-card.*?</article>', page.text, re.S)
    assert card
    html = card.group(0)
    text = text_of(html)
    assert f'href="/deals/{setup["deal"]["id"]}"' in html
    assert "Rose eau de parfum" in text  # the product's title in the viewer's language
    assert "€29.00" in text and "€50.00" in text  # deal price and usual price
    assert "10 of 10 left" in text
    assert "data-countdown" in html and "Ends in" in text


async def test_given_a_deal_before_its_start_then_a_countdown_and_after_its_start_the_buy_button(
    client: httpx.AsyncClient, state: AppState
) -> None:
    setup = await festival_with_deal(client, state, starts_in=600)
    deal_id = setup["deal"]["id"]
    before = await client.get(f"/deals/{deal_id}", headers=HTML)
    assert before.status_code == 200
    assert 'data-phase="upcoming"' in before.text
    start = re.search(r'data-target="([^"]+)" data-server-now="([^"]+)"[^>]*data-countdown-name="start"', before.text)
    assert start, before.text
    assert _iso(start.group(1)) - _iso(start.group(2)) > timedelta(seconds=590)
    assert re.search(r"data-deal-running hidden", before.text)
    assert re.search(r"data-deal-upcoming>", before.text)
    assert f'data-deal-id="{deal_id}"' in before.text and 'data-csrf="' in before.text

    # The server's clock moves past the start: the page renders the button, not the countdown.
    state.clock = FrozenClock(_iso(setup["deal"]["starts_at"]) + timedelta(seconds=1))
    after = await client.get(f"/deals/{deal_id}", headers=HTML)
    assert 'data-phase="running"' in after.text
    assert re.search(r"data-deal-upcoming hidden", after.text)
    assert re.search(r"data-deal-running>", after.text)
    assert "data-deal-buy" in after.text and "Acheter maintenant" in after.text
    assert re.search(r"<strong data-deal-remaining>10</strong>", after.text)


async def test_given_an_unknown_deal_then_404(client: httpx.AsyncClient) -> None:
    assert (await client.get("/deals/999999", headers=HTML)).status_code == 404
    assert (await client.get("/deals/abc", headers=HTML)).status_code == 404


async def test_given_a_viewer_in_another_currency_then_deal_prices_show_an_estimate_in_it(
    client: httpx.AsyncClient, state: AppState
) -> None:
    from passerelle.deps import CURRENCY_COOKIE
    from tests.i18n_fixtures import load_rates

    await load_rates(state)
    setup = await festival_with_deal(client, state)
    client.cookies.set(CURRENCY_COOKIE, "USD")
    page = await client.get(f"/deals/{setup['deal']['id']}", headers={**HTML, "accept-language": "en"})
    shown = text_of(page.text)
    assert "€29.00" in shown  # the deal's own price, in the merchant's currency
    estimate = re.search(r"≈ \$(\d+\.\d\d)", shown)
    assert estimate and 25 < float(estimate.group(1)) < 40
    client.cookies.set(CURRENCY_COOKIE, "EUR")
    assert "≈" not in text_of((await client.get(f"/deals/{setup['deal']['id']}", headers=HTML)).text)
