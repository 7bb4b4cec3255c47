"""Supported languages and how a request's language is chosen."""

from __future__ import annotations

from passerelle.config import SUPPORTED_LANGUAGES, UI_LANGUAGES
from passerelle.errors import DomainError

LANGUAGE_NAMES: dict[str, str] = {
    "fr": "Français",
    "en": "English",
    "es": "Español",
    "de": "Deutsch",
    "it": "Italiano",
    "zh": "中文",
    "ru": "Русский",
}


def check_language(code: str, *, field: str = "language") -> str:
    code = code.strip().lower()
    if code not in SUPPORTED_LANGUAGES:
        raise DomainError(
            "unsupported_language",
            f"Unsupported language {code!r}; use one of {', '.join(SUPPORTED_LANGUAGES)}",
            field=field,
        )
    return code


def negotiate(accept_language: str | None, default: str) -> str:
    """Best supported language from an Accept-Language header."""
    if not accept_language:
        return default
    ranked: list[tuple[float, str]] = []
    for part in accept_language.split(","):
        piece, _, q = part.strip().partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            continue
        ranked.append((weight, piece.split("-")[0].lower()))
    for _, lang in sorted(ranked, reverse=True):
        if lang in SUPPORTED_LANGUAGES:
            return lang
    return default


def ui_language(language: str) -> str:
    """The interface is translated into fewer languages than the catalog; fall back to English."""
    return language if language in UI_LANGUAGES else "en"
