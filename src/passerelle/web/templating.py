"""The Jinja2 environment shared by every page: autoescape, gettext, formatting filters."""

from __future__ import annotations

import gettext as gettext_module
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, get_timezone_location
from babel.numbers import format_decimal
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context
from jinja2.runtime import Context

from passerelle.i18n.countries import country_name
from passerelle.i18n.languages import LANGUAGE_NAMES
from passerelle.money import Money

TEMPLATES_DIR = Path(__file__).with_name("templates")
STATIC_DIR = Path(__file__).with_name("static")


class HasMoney(Protocol):
    amount: int
    currency: str


def _translations(context: Context) -> gettext_module.NullTranslations:
    found = context.get("translations")
    return found if isinstance(found, gettext_module.NullTranslations) else gettext_module.NullTranslations()


def _format_locale(context: Context) -> str:
    return str(context.get("format_locale") or "en")


@pass_context
def _gettext(context: Context, message: str) -> str:
    return _translations(context).gettext(message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, count: int) -> str:
    return _translations(context).ngettext(singular, plural, count)


@pass_context
def money_filter(context: Context, value: HasMoney) -> str:
    """Money (or a MoneyOut) formatted for the viewer with Babel: '49,00 €', '$52.10'."""
    return Money(value.amount, value.currency).format(_format_locale(context))


@pass_context
def country_filter(context: Context, code: str) -> str:
    return country_name(code, _format_locale(context))


@pass_context
def number_filter(context: Context, value: int) -> str:
    return str(format_decimal(value, locale=_format_locale(context)))


@pass_context
def date_filter(context: Context, value: datetime | None) -> str:
    # A date only: the viewer's time zone is unknown, and a day is what these pages need.
    if value is None:
        return ""
    return str(format_date(value, "medium", locale=_format_locale(context)))


@pass_context
def datetime_filter(context: Context, value: datetime | None, time_zone: str = "UTC") -> str:
    """Date and time in a named zone (a festival's), with the zone shown: its short name
    where the language has one ("11 Nov 2026, 00:00 CET", "UTC"), else its city ("11 nov.
    2026, 00:00 (heure de Paris)"): French has no abbreviation for CET and CLDR would
    print a bare "+0100"."""
    if value is None:
        return ""
    zone = ZoneInfo(time_zone)
    locale = _format_locale(context)
    when = format_datetime(value, "d MMM y, HH:mm", tzinfo=zone, locale=locale)
    short = format_datetime(value, "zzz", tzinfo=zone, locale=locale)
    if not short.startswith(("+", "-")):
        return f"{when} {short}"
    city = get_timezone_location(zone, locale=locale, return_city=True)
    return f"{when} ({_translations(context).gettext('%(city)s time') % {'city': city}})"


def language_name(code: str) -> str:
    return LANGUAGE_NAMES.get(code, code)


def _asset_version() -> str:
    """Changes when any static file changes, so browsers never keep a stale CSS or JS file."""
    newest = max((p.stat().st_mtime_ns for p in STATIC_DIR.rglob("*") if p.is_file()), default=0)
    return format(newest // 1_000_000_000, "x")


def build_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(
        money=money_filter,
        country=country_filter,
        number=number_filter,
        date=date_filter,
        datetime=datetime_filter,
        language_name=language_name,
    )
    env.globals["asset_version"] = _asset_version()
    return env


environment = build_environment()


def render_template(name: str, context: dict[str, Any]) -> str:
    return environment.get_template(name).render(context)
