"""Demo products written from curated word lists: deterministic and natural to read.

Each family file (data/families/*.json) holds word lists in several languages and
title/description templates per "kind" of product. A placeholder `{note}` takes the
drawn word as is, `{Note}` capitalises it, `{item.detail}` takes a text attached to the
drawn word; `note2`, `note3` are further distinct draws from the `note` list. Styles
(second-hand, handmade, wholesale) wrap the text and change price, stock and SKUs.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from importlib import resources
from typing import Any

from passerelle.catalog.schemas import ProductIn
from passerelle.money import minor_exponent

BASE_LANGUAGES = ("fr", "en")
RETAIL = "retail"
MAX_ATTEMPTS = 40  # draws tried before accepting a title the merchant already has
_PLACEHOLDER = re.compile(r"\{([A-Za-z_]+\d*)(?:\.(\w+))?\}")
# "de" before a vowel becomes "d'" in French: "une touche de iris" -> "une touche d'iris".
_FRENCH_ELISION = re.compile(r"\b([dD])e ([aeiouyéèêàâîôûAEIOUYÉÈÊÀÂÎÔÛ])")
# ...and "a" becomes "an" in English: "a amber fragrance" -> "an amber fragrance".
_ENGLISH_ARTICLE = re.compile(r"\b([aA]) ([aeioAEIO])")
_NOT_INITIAL = {"de", "du", "des", "en", "à", "au", "aux", "la", "le", "les", "et", "&", "–"}

Item = dict[str, Any]


@cache
def load(name: str) -> Any:
    """A JSON file of the bundled demo data (read once)."""
    return json.loads((resources.files("passerelle.seed") / "data" / name).read_text("utf-8"))


@dataclass(frozen=True)
class Line:
    """One product line of a demo merchant, as merchants.json describes it."""

    family: str
    count: int
    style: str = RETAIL
    kinds: tuple[str, ...] = ()
    translate: bool = False

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Line:
        return cls(
            family=raw["family"],
            count=int(raw["count"]),
            style=raw.get("style", RETAIL),
            kinds=tuple(raw.get("kinds", ())),
            translate=bool(raw.get("translate", False)),
        )


@dataclass(frozen=True)
class ProductSpec:
    data: ProductIn
    shape: str  # what the placeholder image draws
    colour: str  # "#rrggbb"
    mark: str  # initials on the placeholder image


def fill(template: str, language: str, picks: dict[str, Item], extra: dict[str, str]) -> str:
    """Replace placeholders by the drawn words in `language` (KeyError if one is missing)."""

    def word(match: re.Match[str]) -> str:
        name, attribute = match.group(1), match.group(2)
        key = name.lower()
        if key in extra:
            text = extra[key]
        elif attribute:
            text = picks[key]["text"][attribute][language]
        else:
            text = picks[key][language]
        return text[:1].upper() + text[1:] if name[0].isupper() else text

    filled = _PLACEHOLDER.sub(word, template)
    filled = re.sub(r" {2,}", " ", filled).strip()
    if language == "fr":
        return _FRENCH_ELISION.sub(r"\1'\2", filled)
    return _ENGLISH_ARTICLE.sub(r"\1n \2", filled) if language == "en" else filled


def _list(family: dict[str, Any], name: str) -> list[Item]:
    words = family["lists"][name]
    if isinstance(words, str):  # "@colours": a list shared by several families
        shared: list[Item] = load("common.json")[words[1:]]
        return shared
    return list(words)


def _draw(family: dict[str, Any], kind: dict[str, Any], rng: random.Random) -> dict[str, Item]:
    picks: dict[str, Item] = {}
    for name, count in kind["draw"].items():
        for n, item in enumerate(rng.sample(_list(family, name), count), start=1):
            picks[name if n == 1 else f"{name}{n}"] = item
    return picks


def _amount(value: Decimal, currency: str) -> int:
    """A shop price in minor units: 49.90 rather than 49.37."""
    unit = int(10 ** minor_exponent(currency))
    whole = max(1, int(value.quantize(Decimal(1), ROUND_HALF_UP)))
    return whole * unit - (unit // 10 if unit >= 100 and whole >= 2 else 0)


def _initials(picks: dict[str, Item], names: list[str]) -> str:
    words = [w for name in names for w in picks[name]["fr"].replace("'", " ").split()]
    significant = [w for w in words if w.lower() not in _NOT_INITIAL and len(w) > 1 and w[0].isalpha()]
    return "".join(w[0] for w in significant[:2]).upper() or "P"


def _variants(kind: dict[str, Any], picks: dict[str, Item], rng: random.Random) -> tuple[str | None, list[Item]]:
    spec = kind.get("variants")
    if not spec:
        return None, [{"factor": 1.0}]
    values: list[Item] = picks[spec["from"]]["sizes"] if "from" in spec else spec["values"]
    low, high = spec["count"]
    count = max(1, min(len(values), rng.randint(low, high)))
    if spec["pick"] == "window":
        start = rng.randint(0, len(values) - count)
        return spec["option"], values[start : start + count]
    chosen = sorted(rng.sample(range(len(values)), count))
    return spec["option"], [values[i] for i in chosen]


def generate_line(
    *, merchant_code: str, currency: str, line: Line, line_index: int, first_number: int, taken_titles: set[str]
) -> list[ProductSpec]:
    """`line.count` products for a merchant; the same inputs always give the same products."""
    family = load(f"families/{line.family}.json")
    kinds = [k for k in family["kinds"] if not line.kinds or k["name"] in line.kinds]
    rng = random.Random(f"{merchant_code}:{line_index}:{line.family}")
    specs = []
    for offset in range(line.count):
        kind = kinds[offset % len(kinds)]
        for _ in range(MAX_ATTEMPTS):
            picks = _draw(family, kind, rng)
            if fill(kind["title"]["fr"], "fr", picks, {}) not in taken_titles:
                break
        translated = line.translate and line.style == RETAIL and offset % 2 == 0
        languages = kind.get("languages", BASE_LANGUAGES) if translated else BASE_LANGUAGES
        spec = _product(
            family, kind, picks, line, languages, currency, rng, f"{merchant_code}-{first_number + offset:03d}"
        )
        taken_titles.add(spec.data.texts["fr"].title)
        specs.append(spec)
    return specs


def _product(
    family: dict[str, Any],
    kind: dict[str, Any],
    picks: dict[str, Item],
    line: Line,
    languages: tuple[str, ...] | list[str],
    currency: str,
    rng: random.Random,
    code: str,
) -> ProductSpec:
    description = rng.choice(kind["descriptions"])
    texts: dict[str, dict[str, str]] = {}
    for language in languages:
        try:
            texts[language] = {
                "title": fill(kind["title"][language], language, picks, {}),
                "description": fill(description[language], language, picks, {}),
            }
        except KeyError:
            if language in BASE_LANGUAGES:
                raise
    style = load("common.json")["styles"].get(line.style, {})
    factor = Decimal(str(style.get("price_factor", 1)))
    for item in picks.values():
        factor *= Decimal(str(item.get("factor", 1)))
    low, high = kind["price"]
    base = Decimal(rng.randint(low, high)) * factor
    option, values = _variants(kind, picks, rng)
    extra: dict[str, str] = {}
    moq = 1
    if line.style == "second_hand":
        values = [rng.choice(values)]
        picks = {**picks, "condition": rng.choice(style["conditions"])}
    elif line.style == "wholesale":
        option, values = None, [{"factor": 1.0}]
        pack, moq = rng.choice(style["packs"]), rng.choice(style["moq"])
        base *= pack
        extra = {"pack": str(pack), "moq": str(moq)}
    if style:
        for language, text in texts.items():
            wrap = {**extra, "title": text["title"], "description": text["description"]}
            text["title"] = fill(style["title"][language], language, picks, wrap)[:200]
            text["description"] = fill(style["description"][language], language, picks, wrap)
    skus = []
    for index, value in enumerate(values, start=1):
        amount = _amount(base * Decimal(str(value.get("factor", 1))), currency)
        tiers = []
        if line.style == "wholesale":
            tiers = [
                {"min_quantity": moq * 4, "unit_amount": amount * 93 // 100},
                {"min_quantity": moq * 10, "unit_amount": amount * 86 // 100},
            ]
        skus.append(
            {
                "code": code if len(values) == 1 else f"{code}-{index}",
                "options": {option: value["value"]} if option else {},
                "price_amount": amount,
                "stock": _stock(line.style, rng),
                "tiers": tiers,
            }
        )
    data = ProductIn.model_validate(
        {
            "category": kind.get("category", family["category"]),
            "source_language": "fr",
            "texts": texts,
            "skus": skus,
            "min_order_quantity": moq,
            "status": "published",
        }
    )
    colour_item = picks.get(kind.get("colour_from", ""), {})
    colour = colour_item.get("hex") or rng.choice(load("common.json")["palette"])
    return ProductSpec(
        data=data,
        shape=kind.get("shape", family["shape"]),
        colour=colour,
        mark=_initials(picks, kind.get("mark", list(kind["draw"])[:1])),
    )


def _stock(style: str, rng: random.Random) -> int:
    if style == "second_hand":
        return 1  # a one-off piece
    if style == "handmade":
        return rng.randint(1, 4)
    if style == "wholesale":
        return rng.randint(40, 600)  # cases
    return 0 if rng.random() < 0.04 else rng.randint(3, 120)
