"""VAT number checks with python-stdnum: EU numbers by their country checksum, a few other
countries (GB, CH, NO...) by their own module. Pure functions, no network (no VIES call):
a number that passes is well-formed, not proven to be registered."""

from __future__ import annotations

from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError
from stdnum.util import get_cc_module

from passerelle.errors import Invalid

# EU VAT prefixes that are not the ISO country code.
_PREFIX_COUNTRY = {"EL": "GR", "XI": "GB"}
_COUNTRY_PREFIX = {"GR": "EL"}
EU_VAT_COUNTRIES = frozenset(c.upper() for c in eu_vat.MEMBER_STATES if c != "xi")


def _clean(number: str) -> str:
    return "".join(ch for ch in number if ch not in " -./,").upper()


def check_vat_number(number: str, *, country: str, field: str = "vat_number") -> str:
    """The number in compact form with its country prefix, or Invalid with a stable code:
    `invalid_vat_number` (bad format or checksum), `vat_country_mismatch` (another country's
    number), `vat_country_unsupported` (no checksum rule known for that country)."""
    cleaned = _clean(number)
    if not cleaned.isascii() or not cleaned.isalnum():
        raise Invalid("invalid_vat_number", "This is not a valid VAT number", field=field)
    prefix = cleaned[:2]
    has_eu_prefix = prefix.isalpha() and (prefix.lower() in eu_vat.MEMBER_STATES or prefix == "EL")
    if country in EU_VAT_COUNTRIES or has_eu_prefix:
        if not prefix.isalpha():
            # People often leave out their own country prefix.
            prefix = _COUNTRY_PREFIX.get(country, country)
            cleaned = prefix + cleaned
        if _PREFIX_COUNTRY.get(prefix, prefix) != country:
            raise Invalid(
                "vat_country_mismatch",
                f"This VAT number is not one of {country}",
                field=field,
                extra={"prefix": prefix},
            )
        if not eu_vat.is_valid(cleaned):
            raise Invalid("invalid_vat_number", "This is not a valid VAT number (checksum)", field=field)
        return cleaned
    module = get_cc_module(country.lower(), "vat")
    if module is None:
        raise Invalid(
            "vat_country_unsupported", f"VAT numbers of {country} cannot be checked; leave it empty", field=field
        )
    try:
        compact: str = module.validate(cleaned)
    except ValidationError:
        raise Invalid("invalid_vat_number", "This is not a valid VAT number", field=field) from None
    return compact if compact[:2].isalpha() else country + compact
