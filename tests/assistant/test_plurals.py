"""Answers that count products agree with the number, in every language the assistant speaks."""

from __future__ import annotations

import httpx
import pytest

from passerelle.assistant.runtime import Runtime
from passerelle.assistant.templates import TEMPLATES, say
from tests.assistant.catalog import SeedCatalog

ASK = "/api/v1/assistant/messages"


async def test_given_french_searches_then_the_reply_says_produit_for_one_and_produits_for_several(
    client: httpx.AsyncClient, shop: SeedCatalog, runtime: Runtime
) -> None:
    several = (await client.post(ASK, json={"text": "robe"})).json()
    assert several["reply"] == "Voici 2 produits qui correspondent à « robe »." and len(several["products"]) == 2
    one = (await client.post(ASK, json={"text": "confiture de fraise"})).json()
    assert one["reply"] == "Voici 1 produit qui correspond à « confiture fraise »." and len(one["products"]) == 1
    under = (await client.post(ASK, json={"text": "parfum à moins de 40 €"})).json()
    assert under["reply"].startswith("Voici 1 produit à moins de ") and "(s)" not in under["reply"]


async def test_given_english_searches_then_the_reply_says_here_is_one_product_or_here_are_several(
    client: httpx.AsyncClient, shop: SeedCatalog, runtime: Runtime
) -> None:
    several = (await client.post(ASK, json={"text": "I want a dress"})).json()
    assert several["reply"] == 'Here are 2 products matching "dress".'
    one = (await client.post(ASK, json={"text": "i want some honey"})).json()
    assert one["reply"] == 'Here is 1 product matching "honey".'


@pytest.mark.parametrize(
    ("language", "one", "four"),
    [
        ("fr", "Voici 1 produit entre 10 € et 20 € pour « x ».", "Voici 4 produits entre 10 € et 20 € pour « x »."),
        (
            "en",
            'Here is 1 product between 10 € and 20 € for "x".',
            'Here are 4 products between 10 € and 20 € for "x".',
        ),
        (
            "es",
            "Aquí tienes 1 producto entre 10 € y 20 € para «x».",
            "Aquí tienes 4 productos entre 10 € y 20 € para «x».",
        ),
        (
            "de",
            "Hier ist 1 Produkt zwischen 10 € und 20 € zu „x“.",
            "Hier sind 4 Produkte zwischen 10 € und 20 € zu „x“.",
        ),
        ("it", "Ecco 1 prodotto tra 10 € e 20 € per «x».", "Ecco 4 prodotti tra 10 € e 20 € per «x»."),
    ],
)
def test_given_a_count_then_the_plural_form_follows_the_languages_rule(language: str, one: str, four: str) -> None:
    values = {"low": "10 €", "limit": "20 €", "query": "x"}
    assert say(language, "found_range", count=1, **values) == one
    assert say(language, "found_range", count=4, **values) == four


def test_given_the_answer_templates_then_none_writes_an_optional_plural_ending() -> None:
    for language, table in TEMPLATES.items():
        for key, message in table.items():
            for form in message if isinstance(message, tuple) else (message,):
                assert not any(mark in form for mark in ("(s)", "(e)", "/i ")), (language, key)
