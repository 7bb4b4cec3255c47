"""Times on pages name their zone in words the reader's language has."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from passerelle.i18n.messages import translations
from passerelle.web.templating import build_environment

ELEVEN_ELEVEN_PARIS = datetime(2026, 11, 10, 23, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("language", "locale", "zone", "shown"),
    [
        ("en", "en_GB", "Europe/Paris", "11 Nov 2026, 00:00 CET"),
        ("fr", "fr_FR", "Europe/Paris", "11 nov. 2026, 00:00 (heure de Paris)"),  # no French "CET"
        ("en", "en_GB", "Asia/Shanghai", "11 Nov 2026, 07:00 (Shanghai time)"),
        ("fr", "fr_FR", "UTC", "10 nov. 2026, 23:00 TU"),
    ],
)
def test_given_a_festival_time_then_it_is_shown_in_its_zone_with_a_readable_name(
    language: str, locale: str, zone: str, shown: str
) -> None:
    template = build_environment().from_string("{{ at|datetime(zone) }}")

    rendered = template.render(
        at=ELEVEN_ELEVEN_PARIS, zone=zone, translations=translations(language), format_locale=locale
    )

    assert rendered == shown
    assert "+0" not in rendered
