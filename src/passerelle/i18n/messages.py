"""UI message catalogs: the .po files are read and compiled in memory at first use.

No build step: `locales/<lang>/LC_MESSAGES/messages.po` is the source of truth, compiled
with Babel into a GNUTranslations object once per process. Message ids are English.
"""

from __future__ import annotations

import gettext
import io
from functools import lru_cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from passerelle.config import UI_LANGUAGES
from passerelle.i18n.languages import ui_language

LOCALES_DIR = Path(__file__).with_name("locales")
DOMAIN = "messages"


def po_path(language: str) -> Path:
    return LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def compile_po(path: Path, language: str) -> gettext.GNUTranslations:
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def translations(language: str) -> gettext.NullTranslations:
    """The catalog for the interface language of `language` (English for es, de, it, zh, ru)."""
    return _catalog(ui_language(language))


@lru_cache(maxsize=len(UI_LANGUAGES))
def _catalog(ui: str) -> gettext.NullTranslations:
    path = po_path(ui)
    if not path.is_file():
        return gettext.NullTranslations()
    return compile_po(path, ui)


def gettext_noop(message: str) -> str:
    """Marks a string for extraction where it is translated later (at render time)."""
    return message


N_ = gettext_noop
