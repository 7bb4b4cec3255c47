"""Which language a question is in.

Short questions fool statistical identifiers ("parfum" reads as German), so a cheap vote
over marker words comes first; py3langid (its model ships in the package) breaks ties on
longer texts; the viewer's language wins when neither is sure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from passerelle.search.text import fold

ANSWER_LANGUAGES: tuple[str, ...] = ("fr", "en", "es", "de", "it")
_WORD = re.compile(r"\w+", re.UNICODE)

# Words that are frequent in questions and (nearly) unique to one language; accents folded.
_MARKER_WORDS: dict[str, str] = {
    "fr": (
        "je j de cherche bonjour salut merci ma mon mes commande colis livraison ou est quand commence"
        " moins plus retourner retour rembourser vendeur parler humain une un des du le la les pour"
        " puis peux pouvez voudrais avez offre promo quel quelle suivi cette ce ceci vous est-ce"
        " acheter combien parfum robe chemise cadeau"
    ),
    "en": (
        "i im in of with and or case pattern set pack soup plate bowl looking for hello hi thanks my order where is when does start starts deal under below"
        " less than return refund seller talk human the a an can could you this it want need show"
        " which what track tracking package shipping buy how much dress shirt gift perfume"
    ),
    "es": (
        "busco y con caja lote modelo plato hola gracias mi mis pedido donde esta cuando empieza oferta menos de devolver"
        " devolucion reembolso vendedor hablar persona humano el los las una un para puedo quiero"
        " este esto necesito envio seguimiento comprar cuanto perfume vestido camisa regalo por favor"
    ),
    "de": (
        "ich suche hallo danke meine mein bestellung wo ist wann beginnt angebot unter weniger als"
        " zuruckgeben ruckgabe erstattung verkaufer sprechen mensch der die das ein eine fur kann"
        " mochte dieses sendung lieferung kaufen wieviel kleid hemd geschenk duft"
    ),
    "it": (
        "cerco ciao grazie mio mia ordine dove quando inizia offerta meno di sotto restituire reso"
        " rimborso venditore parlare persona umano il lo gli una uno per posso vorrei questo"
        " spedizione tracciamento comprare quanto profumo vestito camicia regalo"
    ),
}
MARKERS = {language: frozenset(words.split()) for language, words in _MARKER_WORDS.items()}


@lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(ANSWER_LANGUAGES))
    return identifier


def _votes(text: str, vocabulary: Mapping[str, str]) -> dict[str, int]:
    votes: dict[str, int] = {}
    for word in _WORD.findall(fold(text)):
        for language, markers in MARKERS.items():
            if word in markers:
                votes[language] = votes.get(language, 0) + 1
        owner = vocabulary.get(word)
        if owner is not None:  # a product's own name weighs more than a common word
            votes[owner] = votes.get(owner, 0) + 2
    return votes


def detect(text: str, *, fallback: str, vocabulary: Mapping[str, str] | None = None) -> str:
    """The question's language among ANSWER_LANGUAGES; `fallback` (the viewer's) when unsure.

    `vocabulary` maps catalog words found in one language only ("bergamota", "velvet") to
    that language: product names then say which language the buyer reads."""
    fallback = fallback if fallback in ANSWER_LANGUAGES else "en"
    if "¿" in text or "¡" in text:
        return "es"
    votes = _votes(text, vocabulary or {})
    ranked = sorted(votes.items(), key=lambda kv: -kv[1])
    if ranked and (len(ranked) == 1 or ranked[0][1] >= ranked[1][1] + 2):
        return ranked[0][0]
    if len(text) >= 12:
        language, confidence = _identifier().classify(text)
        # Without marker words the identifier is all there is: trust it more readily.
        if confidence >= (0.9 if ranked else 0.6) or (ranked and language == ranked[0][0]):
            return str(language)
    if ranked and votes.get(fallback, 0) == ranked[0][1]:
        return fallback
    if ranked and (len(ranked) == 1 or ranked[0][1] > ranked[1][1]):
        return ranked[0][0]
    return fallback


def warm_up() -> None:
    """Load the identifier's model now rather than during a question (about a second)."""
    _identifier()
