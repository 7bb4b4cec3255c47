"""Chat translation: detected language, once per target language, the original kept."""

from __future__ import annotations

import asyncio

import pytest

from passerelle.captions.chat import ChatTranslator
from passerelle.captions.engines import CHAT_LANGUAGES
from passerelle.captions.langid import LanguageIdentifier
from passerelle.captions.mt.apertium_engine import ApertiumEngine
from passerelle.captions.mt.router import Translator


class CountingEngine:
    """Apertium, counting how many texts it is asked to translate per pair."""

    name = "apertium"

    def __init__(self, inner: ApertiumEngine) -> None:
        self.inner = inner
        self.calls: dict[tuple[str, str], int] = {}

    def pairs(self) -> frozenset[tuple[str, str]]:
        return self.inner.pairs()

    def translate_batch(self, texts: list[str], source: str, target: str) -> list[str]:
        self.calls[(source, target)] = self.calls.get((source, target), 0) + len(texts)
        return self.inner.translate_batch(texts, source, target)


@pytest.fixture
def counting(apertium: ApertiumEngine) -> CountingEngine:
    return CountingEngine(apertium)


@pytest.fixture
def chat(counting: CountingEngine) -> ChatTranslator:
    return ChatTranslator(Translator([counting], pivots=["es"]), LanguageIdentifier(CHAT_LANGUAGES))


async def test_given_a_french_message_then_english_viewers_read_it_translated_and_french_ones_untouched(
    chat: ChatTranslator,
) -> None:
    message = "Bonjour, est-ce que la livraison est gratuite pour ce manteau ?"
    result = await chat.translate_message(message, target_langs=["fr", "en", "es"])
    assert result.source_lang == "fr"
    assert result.original == message
    assert result.texts["fr"] == message and result.status["fr"] == "original"
    assert result.status["en"] == "translated" and result.engines["en"] == "apertium:fr-es-en"
    assert "delivery" in result.texts["en"].lower() or "free" in result.texts["en"].lower()
    assert "entrega" in result.texts["es"].lower()


async def test_given_ten_thousand_viewers_then_a_line_is_translated_once_per_language(
    chat: ChatTranslator, counting: CountingEngine
) -> None:
    message = "Le vendeur expédie le colis demain matin."
    viewers = [["en"], ["es"], ["fr"]] * 3334
    results = await asyncio.gather(*(chat.translate_message(message, target_langs=v) for v in viewers))
    assert {r.texts["en"] for r in results if "en" in r.texts} == {results[0].texts["en"]}
    # fr->es once; fr->en pivots through es (cache hit for its first hop) then es->en once.
    assert counting.calls == {("fr", "es"): 1, ("es", "en"): 1}
    again = await chat.translate_message(message, target_langs=["en", "es"])
    assert again.texts["en"] == results[0].texts["en"] and counting.calls[("es", "en")] == 1


async def test_given_an_unsupported_language_then_the_original_is_shown_with_a_clear_status(
    chat: ChatTranslator,
) -> None:
    result = await chat.translate_message("Привет, сколько стоит доставка во Францию?", target_langs=["fr", "en"])
    assert result.source_lang == "ru"
    assert result.texts == {"fr": result.original, "en": result.original}
    assert result.status == {"fr": "unsupported_pair", "en": "unsupported_pair"}


async def test_given_a_too_short_line_then_it_is_left_as_is(chat: ChatTranslator) -> None:
    result = await chat.translate_message("ok", target_langs=["fr", "en"])
    assert result.source_lang is None and result.texts == {"fr": "ok", "en": "ok"}
    spanish = await chat.translate_chat("¿Cuánto cuesta el envío a Francia?", None, ["en"])
    assert "cost" in spanish["en"].lower() or "how much" in spanish["en"].lower()
