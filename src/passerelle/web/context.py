"""What every page handler gets: the viewer, the locale, CSRF, and a `render` bound to them.

Pages read the CSRF token from the form field (browsers cannot set headers on a plain
form post), so `page_guard` checks it before anything else and resolves the session
user itself; `current_user_optional` then finds the user already cached on the request
and does not ask for the header a plain form cannot send.
"""

from __future__ import annotations

import gettext as gettext_module
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from starlette.datastructures import FormData, UploadFile

from passerelle.accounts import service as accounts
from passerelle.accounts.models import Role, User
from passerelle.config import SUPPORTED_LANGUAGES
from passerelle.deps import (
    LANG_COOKIE,
    SAFE_METHODS,
    SESSION_COOKIE,
    OptionalUser,
    RequestLocale,
    Session,
    State,
    check_csrf_header_or_form,
    csrf_token,
)
from passerelle.deps import Locale as ViewerLocale
from passerelle.errors import DomainError, Forbidden, NotFound, Unauthorized
from passerelle.i18n.languages import LANGUAGE_NAMES, negotiate, ui_language
from passerelle.i18n.messages import translations
from passerelle.web.templating import render_template

CSRF_FIELD = "csrf_token"
# Largest form a page accepts: a 10 MB catalog CSV plus the other fields.
MAX_FORM_BYTES = 11 * 1024 * 1024
PAGE_STATE_KEY = "page_chrome"
# Query parameters that pick the locale for one request; never carried into `next`.
LOCALE_QUERY_KEYS = frozenset({"lang", "currency"})


@dataclass(frozen=True)
class Viewer:
    """A plain snapshot of the logged-in user: safe to render after the session rolled back."""

    id: int
    email: str
    display_name: str
    role: str
    country: str

    @property
    def is_operator(self) -> bool:
        return self.role == Role.operator.value

    @classmethod
    def of(cls, user: User) -> Viewer:
        return cls(
            id=user.id,
            email=user.email,
            display_name=user.display_name,
            role=user.role.value,
            country=user.country,
        )


async def page_guard(request: Request, session: Session) -> None:
    """Router-level dependency of every page: CSRF on writes, then the session user."""
    if request.method not in SAFE_METHODS:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_FORM_BYTES:
            # Refused before parsing: the form parser would otherwise spool it all to disk.
            raise DomainError("too_large", "This upload is too large", status=413)
        form = await request.form()
        token = form.get(CSRF_FIELD)
        check_csrf_header_or_form(request, token if isinstance(token, str) else None)
    if not hasattr(request.state, "user"):
        cookie = request.cookies.get(SESSION_COOKIE)
        request.state.user = await accounts.user_for_web_session(session, token=cookie) if cookie else None
        request.state.auth_via = "cookie"


def current_path(request: Request) -> str:
    """This page's path and query, without one-off locale overrides: where switchers return.

    For an HTMX fragment that is the page the browser shows (HX-Current-URL), not the
    fragment's own URL, so forms inside the fragment return to the right place.
    """
    url = request.url
    shown = request.headers.get("hx-current-url") if request.headers.get("hx-request") == "true" else None
    if shown:
        parsed = urlsplit(shown)
        if parsed.netloc == url.netloc:
            url = url.replace(path=parsed.path, query=parsed.query)
    query = [(k, v) for k, v in parse_qsl(url.query, keep_blank_values=True) if k not in LOCALE_QUERY_KEYS]
    return url.path + (f"?{urlencode(query)}" if query else "")


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site absolute paths: never `//evil.example`, a scheme, or a backslash trick."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return default
    return target


@dataclass
class Page:
    request: Request
    user: User | None
    locale: ViewerLocale
    currencies: list[str]
    viewer: Viewer | None = None
    translations: gettext_module.NullTranslations = field(default_factory=gettext_module.NullTranslations)

    @property
    def ui_language(self) -> str:
        return ui_language(self.locale.language)

    @property
    def is_htmx(self) -> bool:
        """An HTMX swap (not a history restore, which needs the whole page)."""
        headers = self.request.headers
        return headers.get("hx-request") == "true" and headers.get("hx-history-restore-request") != "true"

    def gettext(self, message: str, **values: Any) -> str:
        text = self.translations.gettext(message)
        return text % values if values else text

    def require_user(self) -> User:
        if self.user is None:
            raise Unauthorized()
        return self.user

    def require_operator(self) -> User:
        user = self.require_user()
        if user.role != Role.operator:
            raise Forbidden("Operators only")
        return user

    async def form(self) -> FormData:
        return await self.request.form()

    def chrome(self) -> dict[str, Any]:
        """Values the layout needs on every page (header, switchers, footer)."""
        return {
            "request": self.request,
            "viewer": self.viewer,
            "locale": self.locale,
            "ui_lang": self.ui_language,
            "format_locale": self.locale.language,
            "translations": self.translations,
            "csrf_token": csrf_token(self.request),
            "languages": [(code, LANGUAGE_NAMES[code]) for code in SUPPORTED_LANGUAGES],
            "currencies": self.currencies,
            "current_path": current_path(self.request),
            "header_query": self.request.query_params.get("q", "")[:200],
        }

    def render(
        self, template: str, *, status: int = 200, headers: dict[str, str] | None = None, **values: Any
    ) -> HTMLResponse:
        html = render_template(template, {**self.chrome(), **values})
        response = HTMLResponse(html, status_code=status, headers=headers)
        # Full pages and HTMX fragments share URLs: caches must keep them apart.
        response.headers["Vary"] = "HX-Request, Cookie, Accept-Language"
        return response


async def page_context(request: Request, user: OptionalUser, locale: RequestLocale, state: State) -> Page:
    page = Page(
        request=request,
        user=user,
        locale=locale,
        currencies=sorted(locale.fx.rates),
        viewer=Viewer.of(user) if user is not None else None,
        translations=translations(locale.language),
    )
    # Error pages are rendered outside dependency injection; leave them this page's chrome.
    setattr(request.state, PAGE_STATE_KEY, page.chrome())
    return page


PageContext = Annotated[Page, Depends(page_context)]


def fallback_chrome(request: Request, default_language: str) -> dict[str, Any]:
    """Chrome for an error raised before `page_context` ran: no viewer, no switchers."""
    cookie = request.cookies.get(LANG_COOKIE)
    language = (
        cookie if cookie in SUPPORTED_LANGUAGES else negotiate(request.headers.get("accept-language"), default_language)
    )
    return {
        "request": request,
        "viewer": None,
        "locale": None,
        "ui_lang": ui_language(language),
        "format_locale": language,
        "translations": translations(language),
        "csrf_token": csrf_token(request),
        "languages": [],
        "currencies": [],
        "current_path": current_path(request),
        "header_query": "",
    }


def form_text(form: FormData, name: str, *, max_length: int = 1000) -> str:
    value = form.get(name)
    return value.strip()[:max_length] if isinstance(value, str) else ""


def form_list(form: FormData, name: str, *, max_items: int = 300, max_length: int = 1000) -> list[str]:
    return [v[:max_length] for v in form.getlist(name)[:max_items] if isinstance(v, str)]


def form_file(form: FormData, name: str) -> UploadFile | None:
    value = form.get(name)
    return value if isinstance(value, UploadFile) and value.filename else None


def path_id(value: str, what: str = "page") -> int:
    """A numeric id from the URL; anything else is a plain 404 page (never a JSON 422)."""
    if not value.isdigit() or len(value) > 18:
        raise NotFound(what)
    return int(value)
