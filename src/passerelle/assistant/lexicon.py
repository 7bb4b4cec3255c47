"""Words for retrieval: question filler to ignore, and related words that widen a query.

The related-word groups are a small hand-made semantic layer ("floral" also finds rose and
jasmine): no embedding model is downloaded at run time. Everything is stemmed and folded
once, at import, with the same stemmer as the search documents.
"""

from __future__ import annotations

import re
from functools import lru_cache

from passerelle.search.text import tokens

_STOPWORDS: dict[str, str] = {
    "fr": "je j me moi cherche cherchons recherche trouve trouver un une des de du d le la les l a au aux pour"
    " moins plus que qui quoi est et ou en mon ma mes vous tu il elle on avec sans sur dans par pas ne voudrais"
    " veux voulons besoin montre montrez montrer acheter quel quelle quels quelles svp merci bonjour ce cet"
    " cette ces prix euro euros quelque chose offrir idee idée avez auriez vendez joli jolie bon bonne beau belle"
    " cher chere pas-cher puis-je puis peux pouvez peut ceci cela ça ca est-ce quand comment où ou article produit",
    "en": "i im i'm am looking look for a an the some to of in on at with without under below less than me show"
    " find want need buy please hi hello my is are any what which do does have has you sell cheap price euro"
    " euros dollar dollars something nice good idea can could may this that it these those where when how item product"
    " get got",
    "es": "yo busco buscando un una unos unas el la los las de del por para menos con sin en quiero quisiera"
    " necesito muestrame muéstrame comprar algo precio euro euros hola tienes tienen venden bonito bonita"
    " barato barata idea puedo puede esto eso este esta donde cuando como artículo producto",
    "de": "ich suche einen eine einer ein der die das den dem des für fur unter mit ohne und zeig zeige mir möchte"
    " mochte brauche kaufen preis euro hallo etwas habt haben schön schon günstig gunstig idee kann können dies"
    " dieses das wo wann wie artikel produkt",
    "it": "io cerco un una uno il lo la i gli le di del della dei per sotto con senza e voglio vorrei mostrami"
    " comprare prezzo euro ciao qualcosa avete bello bella economico idea posso può questo questa dove quando"
    " come articolo prodotto",
}

# Each group: words that should find each other (single words; stemmed at import).
_RELATED: dict[str, list[str]] = {
    "fr": [
        "floral fleur fleuri fleurie rose jasmin tubéreuse iris mimosa néroli lavande",
        "boisé bois cèdre santal vétiver patchouli",
        "épicé poivre encens",
        "hespéridé agrumes bergamote citron néroli",
        "parfum parfums fragrance senteur",
        "robe robes",
        "chemise chemises",
        "miel miels",
    ],
    "en": [
        "floral flower flowery rose jasmine tuberose iris mimosa neroli lavender blossom",
        "woody wood cedar sandalwood vetiver patchouli",
        "spicy pepper incense",
        "citrus bergamot lemon neroli",
        "perfume perfumes fragrance scent parfum",
        "dress dresses gown",
        "shirt shirts",
    ],
    "es": [
        "floral flor flores rosa jazmín nardo iris mimosa azahar lavanda",
        "amaderado madera cedro sándalo vetiver pachulí",
        "especiado pimienta incienso",
        "cítrico bergamota limón azahar",
        "perfume perfumes fragancia aroma colonia",
        "vestido vestidos",
        "camisa camisas",
    ],
    "de": [
        "blumig blumiger blumige blume blumen rose jasmin tuberose iris mimose orangenblüte lavendel",
        "holzig holziger holz zeder sandelholz vetiver patchouli",
        "würzig pfeffer weihrauch",
        "zitrisch zitrischer bergamotte zitrone",
        "parfum duft düfte",
        "kleid kleider",
        "hemd hemden",
    ],
    "it": [
        "floreale fiore fiori rosa gelsomino tuberosa iris mimosa neroli lavanda",
        "legnoso legno cedro sandalo vetiver patchouli",
        "speziato pepe incenso",
        "agrumato agrumi bergamotto limone",
        "profumo profumi fragranza",
        "vestito vestiti abito abiti",
        "camicia camicie",
    ],
}


@lru_cache(maxsize=8)
def _stopwords(language: str) -> frozenset[str]:
    return frozenset(tokens(_STOPWORDS.get(language, ""), language))


@lru_cache(maxsize=8)
def _related(language: str) -> dict[str, frozenset[str]]:
    related: dict[str, set[str]] = {}
    for group in _RELATED.get(language, []):
        stems = set(tokens(group, language))
        for stem in stems:
            related.setdefault(stem, set()).update(stems - {stem})
    return {stem: frozenset(others) for stem, others in related.items()}


def is_stopword(word: str, language: str) -> bool:
    return word in _stopwords(language)


def expand(word: str, language: str) -> frozenset[str]:
    return _related(language).get(word, frozenset())


_WORD = re.compile(r"\w+", re.UNICODE)


@lru_cache(maxsize=131_072)
def _word_stems(word: str, language: str) -> tuple[str, ...]:
    return tuple(tokens(word, language))


def stems(text: str, language: str) -> list[str]:
    """search.text.tokens, one remembered word at a time: questions reuse few words."""
    return [stem for word in _WORD.findall(text.casefold()) for stem in _word_stems(word, language)]
