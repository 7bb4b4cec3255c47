"""HTML routes for accounts: register, log in, log out, display preferences."""

from __future__ import annotations

from typing import Any

from email_validator import EmailNotValidError, validate_email
from fastapi import APIRouter, Depends
from fastapi.responses import RedirectResponse, Response

from passerelle.accounts import service
from passerelle.accounts.models import User
from passerelle.cart import service as carts
from passerelle.cart.cookies import CART_COOKIE
from passerelle.config import SUPPORTED_LANGUAGES
from passerelle.deps import SESSION_COOKIE, Session, State, UnitOfWorkRoute, after_commit
from passerelle.errors import DomainError
from passerelle.http import client_ip
from passerelle.i18n.countries import country_names
from passerelle.web.context import PageContext, form_text, page_guard, safe_next
from passerelle.web.cookies import clear_session_cookie, set_preferences, set_session_cookie
from passerelle.web.errors import error_text, form_field

router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute, dependencies=[Depends(page_guard)])

REGISTER_FIELDS = frozenset({"email", "display_name", "password", "country", "language", "currency"})
MAX_PASSWORD = 200


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


async def _adopt_guest_cart(page: PageContext, session: Session, user: User, response: Response) -> None:
    """What a guest put in the cart follows them into their account."""
    guest_cart = page.request.cookies.get(CART_COOKIE)
    if guest_cart:
        await carts.merge_guest_cart(session, guest_token=guest_cart, user_id=user.id)
        response.delete_cookie(CART_COOKIE, path="/")


def _password(value: Any) -> str:
    # Never stripped (spaces count), but bounded: hashing megabytes is a denial of service.
    return value[:MAX_PASSWORD] if isinstance(value, str) else ""


@router.get("/login")
async def login_form(page: PageContext, next: str = "") -> Response:
    if page.user is not None:
        return _see_other(safe_next(next))
    return page.render("accounts/login.html", errors={}, email="", next=safe_next(next, ""))


@router.post("/login")
async def login(page: PageContext, session: Session, state: State) -> Response:
    form = await page.form()
    email = form_text(form, "email", max_length=254)
    target = safe_next(form_text(form, "next"), "")

    def again(error: DomainError) -> Response:
        message = error_text(page.translations, error)
        return page.render(
            "accounts/login.html", status=error.status_code, errors={"": message}, email=email, next=target
        )

    allowed, _wait = state.login_limiter.allow(f"{client_ip(page.request)}|{email.lower()}")
    if not allowed:
        return again(DomainError("rate_limited", "Too many attempts", status=429))
    try:
        user = await service.authenticate(session, email=email, password=_password(form.get("password")))
    except DomainError as error:
        return again(error)
    # A new session on every login: a cookie planted before login never becomes a session.
    previous = page.request.cookies.get(SESSION_COOKIE)
    if previous:
        await service.close_web_session(session, token=previous)
    token = await service.open_web_session(session, user=user, days=state.settings.session_days)
    response = _see_other(target or "/")
    set_session_cookie(response, token=token, settings=state.settings)
    await _adopt_guest_cart(page, session, user, response)
    return response


def _register_page(page: PageContext, *, values: dict[str, str], errors: dict[str, str], status: int = 200) -> Response:
    return page.render(
        "accounts/register.html",
        status=status,
        values=values,
        errors=errors,
        countries=country_names(page.locale.language),
    )


@router.get("/register")
async def register_form(page: PageContext, state: State, next: str = "") -> Response:
    if page.user is not None:
        return _see_other(safe_next(next))
    values = {
        "email": "",
        "display_name": "",
        "country": state.settings.default_country,
        "language": page.locale.language,
        "currency": page.locale.currency,
        "next": safe_next(next, ""),
    }
    return _register_page(page, values=values, errors={})


@router.post("/register")
async def register(page: PageContext, session: Session, state: State) -> Response:
    form = await page.form()
    values = {
        "email": form_text(form, "email", max_length=254),
        "display_name": form_text(form, "display_name", max_length=100),
        "country": form_text(form, "country", max_length=2).upper(),
        "language": form_text(form, "language", max_length=5).lower(),
        "currency": form_text(form, "currency", max_length=3).upper(),
        "next": safe_next(form_text(form, "next"), ""),
    }
    allowed, _wait = state.register_limiter.allow(client_ip(page.request))
    if not allowed:
        error = DomainError("rate_limited", "Too many sign-ups", status=429)
        return _register_page(page, values=values, errors={"": error_text(page.translations, error)}, status=429)
    try:
        email = validate_email(values["email"], check_deliverability=False).normalized
    except EmailNotValidError:
        message = page.gettext("Enter a valid e-mail address, such as name@example.com")
        return _register_page(page, values=values, errors={"email": message}, status=422)
    try:
        user = await service.register(
            session,
            email=email,
            password=_password(form.get("password")),
            country=values["country"],
            language=values["language"],
            currency=values["currency"],
            display_name=values["display_name"] or None,
        )
    except DomainError as error:
        errors = {form_field(error, REGISTER_FIELDS): error_text(page.translations, error)}
        return _register_page(page, values=values, errors=errors, status=error.status_code)
    token = await service.open_web_session(session, user=user, days=state.settings.session_days)
    response = _see_other(values["next"] or "/")
    set_session_cookie(response, token=token, settings=state.settings)
    await _adopt_guest_cart(page, session, user, response)
    set_preferences(response, settings=state.settings, language=user.language, currency=user.currency)
    return response


@router.post("/logout")
async def logout(page: PageContext, session: Session, state: State) -> Response:
    token = page.request.cookies.get(SESSION_COOKIE)
    if token:
        await service.close_web_session(session, token=token)
    response = _see_other("/")
    clear_session_cookie(response, settings=state.settings)
    return response


@router.post("/prefs")
async def preferences(page: PageContext, session: Session, state: State) -> Response:
    """The language and currency switchers: cookies for everyone, the profile when logged in."""
    form = await page.form()
    language = form_text(form, "lang", max_length=5).lower() or None
    currency = form_text(form, "currency", max_length=3).upper() or None
    if language is not None and language not in SUPPORTED_LANGUAGES:
        raise DomainError("unsupported_language", "Unsupported language", field="lang", status=422)
    if currency is not None and not page.locale.fx.knows(currency):
        raise DomainError("unknown_currency", "Unknown or unpriced currency", field="currency", status=422)
    if page.user is not None:
        await service.update_preferences(session, user=page.user, language=language, currency=currency)
        user_id = page.user.id
        after_commit(session, lambda: state.api_token_users.forget_user(user_id))
    response = _see_other(safe_next(form_text(form, "next")))
    set_preferences(response, settings=state.settings, language=language, currency=currency)
    return response
