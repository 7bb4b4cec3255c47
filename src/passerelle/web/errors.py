"""Turning a DomainError into a message for people, in the page's language.

Service messages are English. Those that never vary are message ids themselves (listed
below so extraction finds them); those that embed a value are translated by their code.
"""

from __future__ import annotations

import gettext as gettext_module

from passerelle.accounts.service import MIN_PASSWORD_LENGTH
from passerelle.errors import DomainError
from passerelle.i18n.messages import N_

# Messages whose text depends on a value: one translatable sentence per stable code.
BY_CODE: dict[str, str] = {
    "weak_password": N_("Choose a password of at least %(min_length)s characters"),
    "unknown_country": N_("Choose a country from the list"),
    "unknown_currency": N_("Choose a currency from the list"),
    "unsupported_language": N_("Choose a language from the list"),
    "unknown_category": N_("Choose a category from the list"),
    "sku_code_taken": N_("This SKU code is already used by another product"),
    "already_reviewed": N_("This application was already reviewed"),
    "rate_limited": N_("Too many attempts; wait a minute and try again"),
    "invalid_amount": N_("Enter an amount with no more decimals than the currency allows"),
    "not_found": N_("We could not find what you were looking for"),
}

# Fixed service messages, translated as they are.
KNOWN_MESSAGES: tuple[str, ...] = (
    N_("This form has expired; reload the page and retry"),
    N_("An account with this e-mail already exists"),
    N_("Wrong e-mail or password"),
    N_("This account is disabled"),
    N_("Authentication required"),
    N_("Operators only"),
    N_("You may not do this"),
    N_("Give the company or shop name"),
    N_("List at least one country"),
    N_("Give the title in the product's source language"),
    N_("Each SKU code must be unique"),
    N_("Minimum order quantities are for wholesalers"),
    N_("Quantity price tiers are for wholesalers"),
    N_("Two tiers start at the same quantity"),
    N_("A larger quantity cannot cost more per unit"),
    N_("Stock cannot be negative"),
    N_("This file is not a readable image"),
    N_("Use a JPEG, PNG or WebP image"),
    N_("This image is too large"),
    N_("An operator must approve this merchant before it can publish"),
    N_("Something went wrong on our side"),
    N_("This upload is too large"),
)


def error_text(translations: gettext_module.NullTranslations, error: DomainError) -> str:
    template = BY_CODE.get(error.code)
    if template is not None:
        return translations.gettext(template) % {"min_length": MIN_PASSWORD_LENGTH}
    return translations.gettext(error.message)


def form_field(error: DomainError, known: frozenset[str] | set[str]) -> str:
    """The form field to show the error next to, or '' for the top of the form."""
    return error.field if error.field is not None and error.field in known else ""
