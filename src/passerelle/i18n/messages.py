"""UI message catalogs: the .po files are read and compiled in memory at first use.

No build step: the `.po` files in `locales/<lang>/LC_MESSAGES/` are the source of truth
(`messages.po` for the core, one file per later domain such as `live.po`, so domains do not
edit one shared file), merged and compiled with Babel into one GNUTranslations object
once per process. Message ids are English.
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


def po_paths(language: str) -> list[Path]:
    """Every catalog file of a language, the core `messages.po` first."""
    directory = LOCALES_DIR / language / "LC_MESSAGES"
    return sorted(directory.glob("*.po"), key=lambda p: (p.stem != DOMAIN, p.name))


def compile_po(paths: list[Path], language: str) -> gettext.GNUTranslations:
    with paths[0].open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=DOMAIN)
    for path in paths[1:]:
        with path.open("rb") as handle:
            for message in read_po(handle, locale=language, domain=DOMAIN):
                # Keyed by (id, context): "Home" (a page) and "Home" in a context are two messages.
                if message.id and catalog.get(message.id, context=message.context) is None:
                    catalog[message.id] = message
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def translations(language: str) -> gettext.NullTranslations:
    """The catalog for the interface language of `language` (English for es, de, it, zh, ru)."""
    return _catalog(ui_language(language))


@lru_cache(maxsize=len(UI_LANGUAGES))
def _catalog(ui: str) -> gettext.NullTranslations:
    paths = po_paths(ui)
    if not paths:
        return gettext.NullTranslations()
    return compile_po(paths, ui)


def gettext_noop(message: str) -> str:
    """Marks a string for extraction where it is translated later (at render time)."""
    return message


N_ = gettext_noop


def pgettext_noop(context: str, message: str) -> str:
    """Marks a string with its context (msgctxt) for extraction; translated later with
    `translations(...).pgettext(context, message)`. The context keeps apart a label that
    another message of the catalogs spells the same way with another meaning."""
    return message
