"""Text normalisation shared by indexing and querying, so both sides always agree.

fold: NFKD + strip combining marks + casefold ("Été" -> "ete").
tokens: lowercased words, stemmed with the Snowball stemmer of the language ("Parfums" -> "parfum",
"dresses" -> "dress"). Chinese has no spaces or stems: it is cut into character bigrams.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

import snowballstemmer  # type: ignore[import-untyped]

_STEMMER_NAMES = {
    "fr": "french",
    "en": "english",
    "es": "spanish",
    "de": "german",
    "it": "italian",
    "ru": "russian",
    "pt": "portuguese",
    "nl": "dutch",
}
_WORD = re.compile(r"\w+", re.UNICODE)
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.casefold()


@lru_cache(maxsize=16)
def _stemmer(language: str) -> Any:
    name = _STEMMER_NAMES.get(language)
    return snowballstemmer.stemmer(name) if name else None


def _han_bigrams(run: str) -> list[str]:
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def tokens(text: str, language: str) -> list[str]:
    # Stem the accented word (Snowball's rules expect accents: "parfumée" -> "parfum"),
    # then fold accents away so "ete" and "été" meet.
    lowered = unicodedata.normalize("NFC", text).casefold()
    words: list[str] = []
    for word in _WORD.findall(lowered):
        if _HAN.search(word):
            # Chinese runs (possibly glued to latin letters) become bigrams; the rest stays.
            for part in re.split(r"([\u3400-\u9fff\uf900-\ufaff]+)", word):
                if not part:
                    continue
                words.extend(_han_bigrams(part) if _HAN.fullmatch(part) else [part])
        else:
            words.append(word)
    stemmer = _stemmer(language)
    stemmed = [str(w) for w in stemmer.stemWords(words)] if stemmer is not None else words
    return [fold(w) for w in stemmed]


def document(text: str, language: str) -> str:
    return " ".join(tokens(text, language))
