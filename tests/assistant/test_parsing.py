"""The pure pieces: prices, intents and language, without a server."""

from __future__ import annotations

import pytest

from passerelle.assistant.intents import Intent, parse
from passerelle.assistant.lang import detect
from passerelle.assistant.prices import parse_prices


@pytest.mark.parametrize(
    ("text", "viewer", "currency", "low", "high"),
    [
        ("parfum floral a moins de 60 €", "EUR", "EUR", None, 6000),
        ("floral perfume under $50", "EUR", "USD", None, 5000),
        ("floral perfume under $50", "CAD", "CAD", None, 5000),
        ("perfume menos de 60 €", "EUR", "EUR", None, 6000),
        ("kleid unter 40 euro", "EUR", "EUR", None, 4000),
        ("robe entre 20 et 40 euros", "EUR", "EUR", 2000, 4000),
        ("dress under 30 £", "EUR", "GBP", None, 3000),
        ("cadeau a moins de 25,50", "EUR", "EUR", None, 2550),
        ("gift under 3000", "JPY", "JPY", None, 3000),
        ("scarf over 100 chf", "EUR", "CHF", 10000, None),
        ("robe rouge", "EUR", "EUR", None, None),
    ],
)
def test_given_a_price_phrase_then_it_becomes_minor_units_of_the_right_currency(
    text: str, viewer: str, currency: str, low: int | None, high: int | None
) -> None:
    bounds, rest = parse_prices(text, viewer_currency=viewer)
    assert (bounds.currency, bounds.min_amount, bounds.max_amount) == (currency, low, high)
    if high is not None or low is not None:
        assert not any(ch.isdigit() for ch in rest)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("je cherche un parfum floral à moins de 60 €", Intent.product_search),
        ("where is my order?", Intent.order_status),
        ("¿cuándo empieza la oferta?", Intent.deal_times),
        ("can I return this?", Intent.returns),
        ("je veux me faire rembourser ma commande", Intent.returns),
        ("talk to a human", Intent.handoff),
        ("hablar con el vendedor", Intent.handoff),
        ("bonjour", Intent.greeting),
        ("help", Intent.help),
        ("wann beginnt das Angebot?", Intent.deal_times),
        ("dov'è il mio ordine?", Intent.order_status),
    ],
)
def test_given_a_question_then_its_intent_is_recognised(text: str, intent: Intent) -> None:
    assert parse(text, currency="EUR").intent == intent


def test_given_an_order_number_then_it_is_read_but_not_a_price() -> None:
    assert parse("where is order #1234?", currency="EUR").order_id == 1234
    assert parse("où est ma commande 88 ?", currency="EUR").order_id == 88
    assert parse("where is my order?", currency="EUR").order_id is None


@pytest.mark.parametrize(
    ("text", "fallback", "language"),
    [
        ("je cherche un parfum floral à moins de 60 €", "en", "fr"),
        ("where is my order?", "fr", "en"),
        ("¿cuándo empieza la oferta?", "fr", "es"),
        ("puedo devolver esto", "fr", "es"),
        ("wo ist meine Bestellung", "fr", "de"),
        ("dove è il mio ordine", "fr", "it"),
        ("iris", "es", "es"),
        ("iris", "en", "en"),
    ],
)
def test_given_a_question_then_its_language_is_detected_with_the_viewers_as_tie_breaker(
    text: str, fallback: str, language: str
) -> None:
    assert detect(text, fallback=fallback) == language


def test_given_catalog_words_of_one_language_then_they_decide() -> None:
    vocabulary = {"bergamota": "es", "nardo": "es", "black": "en", "velvet": "en"}
    assert detect("eau de parfum bergamota y nardo", fallback="fr", vocabulary=vocabulary) == "es"
    assert detect("black velvet extrait de parfum", fallback="fr", vocabulary=vocabulary) == "en"
