"""Price constraints in a question: "moins de 60 €", "under $50", "menos de 60 €", "entre 20 et 40 €".

Amounts become integer minor units of the currency named in the question, else the viewer's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from passerelle.money import is_currency, minor_exponent

_AMOUNT = (
    r"(?P<pre>[€$£¥]|eur|usd|gbp|chf)?\s*(?P<num>\d{1,7}(?:[.,]\d{1,2})?)\s*"
    r"(?P<post>[€$£¥]|euros?|eur|usd|dollars?|dolares?|dollari|gbp|pounds?|livres?|sterling|chf|francs?|yens?"
    r"|yuans?|jpy|cny|[a-z]{3}\b)?"
)
CEILING = re.compile(
    r"\b(?:moins de|moins que|en dessous de|au-dessous de|sous les|max(?:imum)?|jusqu'?a|pas plus de|under|below"
    r"|less than|cheaper than|up to|at most|no more than|within|menos de|por debajo de|por menos de|maximo|hasta"
    r"|unter|weniger als|bis zu|hochstens|bis|meno di|sotto(?: i)?|fino a|massimo|non piu di)\s*"
    + _AMOUNT
    + r"|<=?\s*"
    + _AMOUNT.replace("?P<", "?P<c")
)
FLOOR = re.compile(
    r"\b(?:plus de|au-dessus de|au moins|minimum|more than|over|above|at least|mas de|por encima de|minimo|al menos"
    r"|uber|mehr als|mindestens|piu di|sopra(?: i)?|almeno)\s*" + _AMOUNT
)
BETWEEN = re.compile(
    r"\b(?:entre|between|zwischen|tra|fra)\s*(?P<low>\d{1,7}(?:[.,]\d{1,2})?)\s*(?:[€$£¥]|euros?)?\s*"
    r"(?:et|and|y|und|e|-)\s*" + _AMOUNT
)
_DIGIT = re.compile(r"\d")
SYMBOLS = {"€": "EUR", "£": "GBP", "¥": "JPY"}
WORDS = {
    "euro": "EUR",
    "euros": "EUR",
    "eur": "EUR",
    "usd": "USD",
    "gbp": "GBP",
    "pound": "GBP",
    "pounds": "GBP",
    "livre": "GBP",
    "livres": "GBP",
    "sterling": "GBP",
    "chf": "CHF",
    "franc": "CHF",
    "francs": "CHF",
    "yen": "JPY",
    "yens": "JPY",
    "jpy": "JPY",
    "yuan": "CNY",
    "yuans": "CNY",
    "cny": "CNY",
}
DOLLAR_COUNTRIES = frozenset({"USD", "CAD", "AUD", "NZD", "SGD", "HKD", "MXN"})


@dataclass(frozen=True, slots=True)
class PriceBounds:
    currency: str
    max_amount: int | None = None  # minor units of `currency`, inclusive
    min_amount: int | None = None

    @property
    def bounded(self) -> bool:
        return self.max_amount is not None or self.min_amount is not None


def _currency(marks: tuple[str | None, ...], viewer: str) -> str:
    for mark in marks:
        if not mark:
            continue
        if mark == "$" or mark.startswith("dol"):
            return viewer if viewer in DOLLAR_COUNTRIES else "USD"
        if mark in SYMBOLS:
            return "CNY" if mark == "¥" and viewer == "CNY" else SYMBOLS[mark]
        if mark in WORDS:
            return WORDS[mark]
        code = mark.upper()
        if len(code) == 3 and is_currency(code):
            return code
    return viewer


def _minor(number: str, currency: str) -> int | None:
    try:
        value = Decimal(number.replace(",", "."))
    except InvalidOperation:
        return None
    return int(value.scaleb(minor_exponent(currency)).quantize(Decimal(1), ROUND_HALF_UP))


def parse_prices(folded: str, *, viewer_currency: str) -> tuple[PriceBounds, str]:
    """(bounds, the text with the price phrases cut out). Bounds share one currency."""
    if _DIGIT.search(folded) is None:  # no amount, no bound: skip the costlier patterns
        return PriceBounds(currency=viewer_currency), folded
    low = high = None
    currency = viewer_currency
    rest = folded
    between = BETWEEN.search(rest)
    if between:
        currency = _currency((between.group("pre"), between.group("post")), viewer_currency)
        low, high = _minor(between.group("low"), currency), _minor(between.group("num"), currency)
        rest = rest[: between.start()] + " " + rest[between.end() :]
    ceiling = CEILING.search(rest)
    if ceiling and high is None:
        number = ceiling.group("num") or ceiling.group("cnum")
        marks = (ceiling.group("pre"), ceiling.group("post"), ceiling.group("cpre"), ceiling.group("cpost"))
        currency = _currency(marks, viewer_currency)
        high = _minor(number, currency)
        rest = rest[: ceiling.start()] + " " + rest[ceiling.end() :]
    floor = FLOOR.search(rest)
    if floor and low is None:
        floor_currency = _currency((floor.group("pre"), floor.group("post")), currency)
        if high is None or floor_currency == currency:
            currency = floor_currency
            low = _minor(floor.group("num"), currency)
            rest = rest[: floor.start()] + " " + rest[floor.end() :]
    return PriceBounds(currency=currency, max_amount=high, min_amount=low), rest
