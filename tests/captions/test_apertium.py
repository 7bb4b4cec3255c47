"""Apertium through its command line: direct pairs, the fr -> es -> en pivot, and no unknown-word marks."""

from __future__ import annotations

import re

import pytest

from passerelle.captions.mt.apertium_engine import ApertiumEngine, clean_marks
from passerelle.captions.mt.router import Translator
from passerelle.captions.types import UnsupportedPair

SHOP_PHRASES_FR = [
    "Livraison gratuite pour toute commande.",
    "Ajoutez ce produit à votre panier.",
    "Le vendeur expédie le colis demain.",
    "Ce manteau rouge est en promotion aujourd'hui.",
    "Paiement sécurisé, retours gratuits sous trente jours.",
    "Le prix du téléphone baisse à minuit, code promo XQZ42 chez Zorbulax.",
]
MARKS = re.compile(r"(^|\s)[*#@]\w")


def test_given_no_fr_en_pair_when_translating_fr_to_en_then_it_pivots_through_spanish(translator: Translator) -> None:
    assert translator.engine_label("fr", "en") == "apertium:fr-es-en"
    results = translator.translate_batch(SHOP_PHRASES_FR, "fr", "en")
    english = [r.text for r in results]
    assert len(english) == len(SHOP_PHRASES_FR)
    assert "free" in english[0].lower() and "delivery" in english[0].lower()
    assert "product" in english[1].lower()
    assert "tomorrow" in english[2].lower()
    assert "red" in english[3].lower()
    assert "telephone" in english[5].lower()  # gist quality: "minuit" comes out "half night"
    assert {r.engine for r in results} == {"apertium:fr-es-en"}


def test_given_unknown_words_when_translated_then_no_mark_reaches_the_viewer(translator: Translator) -> None:
    for result in translator.translate_batch(SHOP_PHRASES_FR + ["Zorbulax wumpfel grongé!"], "fr", "en"):
        assert not MARKS.search(result.text), result.text
        assert "*" not in result.text and "@" not in result.text
    assert "Zorbulax" in translator.translate("Zorbulax wumpfel grongé!", "fr", "en").text


def test_given_marks_then_cleaning_drops_them_but_keeps_the_hashtags_of_the_source() -> None:
    assert clean_marks("El *wumpfel #grongé @zut es bueno") == "El wumpfel grongé zut es bueno"
    assert clean_marks("Compra en #promo y *zorb", "Achetez en #promo et zorb") == "Compra en #promo y zorb"


def test_given_a_pair_with_no_route_then_unsupported_is_raised_not_a_crash(translator: Translator) -> None:
    assert not translator.supports("fr", "zh")
    with pytest.raises(UnsupportedPair):
        translator.translate("Bonjour", "fr", "zh")


def test_given_a_batch_then_each_text_keeps_its_place(apertium: ApertiumEngine) -> None:
    out = apertium.translate_batch(["Hola.", "", "Gracias por tu compra.", "Línea\n\ncon saltos"], "es", "en")
    assert len(out) == 4
    assert "hello" in out[0].lower() and "thank" in out[2].lower()
