"""ISO 3166 country data from pycountry (maintained upstream, never hand-typed)."""

from __future__ import annotations

from functools import lru_cache

import pycountry
from babel import Locale

from passerelle.errors import DomainError


@lru_cache(maxsize=512)
def is_country(code: str) -> bool:
    return len(code) == 2 and code.isupper() and pycountry.countries.get(alpha_2=code) is not None


def check_country(code: str, *, field: str = "country") -> str:
    code = code.strip().upper()
    if not is_country(code):
        raise DomainError("unknown_country", f"Unknown country code: {code!r}", field=field)
    return code


def check_countries(codes: list[str], *, field: str = "ships_to") -> list[str]:
    checked = sorted({check_country(c, field=field) for c in codes})
    if not checked:
        raise DomainError("empty_ships_to", "List at least one country", field=field)
    return checked


@lru_cache(maxsize=64)
def country_names(language: str) -> list[tuple[str, str]]:
    """(code, localised name) pairs sorted by name, for pickers."""
    locale = Locale.parse(language)
    names = locale.territories
    pairs = [(c.alpha_2, str(names.get(c.alpha_2, c.name))) for c in pycountry.countries]
    return sorted(pairs, key=lambda pair: pair[1])


def country_name(code: str, language: str) -> str:
    return str(Locale.parse(language).territories.get(code, code))
