"""Every interface message used by a template or a page has its French translation."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

import passerelle
from passerelle.i18n.messages import po_paths, translations

SRC = Path(passerelle.__file__).parent
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
JINJA_OPTIONS = {"extensions": "jinja2.ext.i18n", "trim_blocks": "True", "lstrip_blocks": "True"}


def used_messages() -> set[str]:
    found: set[str] = set()
    sources = [
        (SRC / "web" / "templates", [("**.html", "jinja2.ext:babel_extract")], {"**.html": JINJA_OPTIONS}),
        (SRC / "web", [("*.py", "python")], {}),
        # Every domain's page handlers (pages.py or a pages/ package).
        *[(d, [("*pages.py", "python"), ("pages/*.py", "python")], {}) for d in SRC.iterdir() if d.is_dir()],
    ]
    for directory, methods, options in sources:
        for _name, _line, message, _comments, _context in extract_from_dir(
            directory, methods, options, keywords=KEYWORDS
        ):
            found.add(message[0] if isinstance(message, tuple) else message)
    return found


def catalog_ids(language: str) -> dict[str, bool]:
    known: dict[str, bool] = {}
    for path in po_paths(language):
        with path.open("rb") as handle:
            for m in read_po(handle):
                if m.id:
                    key = m.id[0] if isinstance(m.id, tuple) else m.id
                    known[key] = all(m.string) if isinstance(m.string, tuple) else bool(m.string)
    return known


def test_given_the_templates_and_pages_then_every_message_is_in_both_catalogs_and_translated() -> None:
    used = used_messages()
    assert len(used) > 200
    for language in ("fr", "en"):
        known = catalog_ids(language)
        missing = sorted(used - set(known))
        untranslated = sorted(m for m in used if not known.get(m, False))
        assert not missing, f"{language}.po lacks: {missing[:10]}"
        assert not untranslated, f"{language}.po leaves untranslated: {untranslated[:10]}"


def test_given_the_catalogs_then_they_compile_and_keep_placeholders() -> None:
    french = translations("fr")
    assert french.gettext("Log in") == "Se connecter"
    assert french.ngettext("%(num)s product", "%(num)s products", 2) == "%(num)s produits"
    assert translations("zh").gettext("Log in") == "Log in"
    for path in po_paths("fr"):
        with path.open("rb") as handle:
            messages = list(read_po(handle))
        for message in messages:
            if not message.id or not message.string:
                continue
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            wanted = {p for i in ids for p in _placeholders(i)}
            for string in strings:
                assert _placeholders(string) <= wanted, message.id


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"%\((\w+)\)s", text))
