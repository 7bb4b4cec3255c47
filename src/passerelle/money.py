"""Money: integer minor units plus an ISO 4217 code. Never a float.

FX conversion goes through the base currency with exact decimals and banker's rounding
to the target currency's minor unit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache

import pycountry
from babel import Locale
from babel.numbers import format_currency, get_currency_precision

from passerelle.errors import DomainError


@lru_cache(maxsize=512)
def is_currency(code: str) -> bool:
    return len(code) == 3 and code.isupper() and pycountry.currencies.get(alpha_3=code) is not None


def check_currency(code: str, *, field: str = "currency") -> str:
    code = code.strip().upper()
    if not is_currency(code):
        raise DomainError("unknown_currency", f"Unknown currency code: {code!r}", field=field)
    return code


@lru_cache(maxsize=512)
def minor_exponent(currency: str) -> int:
    """Digits after the decimal point: EUR 2, JPY 0, KWD 3 (from CLDR via Babel)."""
    return int(get_currency_precision(currency))


@dataclass(frozen=True, slots=True)
class Money:
    amount: int
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, int) or isinstance(self.amount, bool):
            raise TypeError("Money.amount must be an int of minor units")

    @classmethod
    def from_major(cls, value: str | Decimal | int, currency: str) -> Money:
        """'12.50' EUR -> Money(1250, 'EUR'). Rejects more decimals than the currency has."""
        exp = minor_exponent(currency)
        quantised = Decimal(value).scaleb(exp)
        if quantised != quantised.to_integral_value():
            raise DomainError("invalid_amount", f"{value} has more decimals than {currency} allows", field="price")
        return cls(int(quantised), currency)

    def to_major(self) -> Decimal:
        return Decimal(self.amount).scaleb(-minor_exponent(self.currency))

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, quantity: int) -> Money:
        return Money(self.amount * quantity, self.currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot mix {self.currency} and {other.currency}")

    def format(self, locale: str = "fr") -> str:
        return _formatted(self.amount, self.currency, locale)

    def as_dict(self) -> dict[str, int | str]:
        return {"amount": self.amount, "currency": self.currency}


class FxTable:
    """Rates as units of each currency per one unit of `base`."""

    def __init__(self, base: str, rates: Mapping[str, Decimal]) -> None:
        self.base = base
        self.rates = dict(rates)
        self.rates[base] = Decimal(1)

    def knows(self, currency: str) -> bool:
        return currency in self.rates

    def convert(self, money: Money, to_currency: str) -> Money:
        if money.currency == to_currency:
            return money
        try:
            rate_from, rate_to = self.rates[money.currency], self.rates[to_currency]
        except KeyError as missing:
            raise DomainError("no_fx_rate", f"No exchange rate for {missing.args[0]}", field="currency") from None
        target = money.to_major() / rate_from * rate_to
        minor = target.scaleb(minor_exponent(to_currency)).quantize(Decimal(1), ROUND_HALF_EVEN)
        return Money(int(minor), to_currency)

    def convert_amount_bound(self, amount: int, from_currency: str, to_currency: str) -> int:
        """Convert a filter bound (minor units) between currencies."""
        return self.convert(Money(amount, from_currency), to_currency).amount


@lru_cache(maxsize=4096)
def _formatted(amount: int, currency: str, locale: str) -> str:
    """Babel's formatting of an amount, kept: it costs ~50 µs (a paid order's mails format
    three totals), and catalogue prices and totals repeat."""
    major = Decimal(amount).scaleb(-minor_exponent(currency))
    return str(format_currency(major, currency, locale=_babel_locale(locale)))


@lru_cache(maxsize=64)
def _babel_locale(tag: str) -> Locale:
    """Parsed once per tag: babel parses its argument on every call (a third of a format)."""
    return Locale.parse(tag)
