"""Cookies the pages set: the login session and the display preferences."""

from __future__ import annotations

from starlette.responses import Response

from passerelle.config import Settings
from passerelle.deps import CURRENCY_COOKIE, LANG_COOKIE, SESSION_COOKIE

PREFERENCE_SECONDS = 365 * 86400


def set_session_cookie(response: Response, *, token: str, settings: Settings) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_days * 86400,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
    )


def clear_session_cookie(response: Response, *, settings: Settings) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=settings.cookie_secure)


def set_preferences(
    response: Response, *, settings: Settings, language: str | None = None, currency: str | None = None
) -> None:
    for name, value in ((LANG_COOKIE, language), (CURRENCY_COOKIE, currency)):
        if value:
            response.set_cookie(
                name,
                value,
                max_age=PREFERENCE_SECONDS,
                path="/",
                httponly=True,
                samesite="lax",
                secure=settings.cookie_secure,
            )
