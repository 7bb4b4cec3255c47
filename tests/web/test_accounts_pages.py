"""Register, log in and out through the HTML forms; CSRF and the login rate limit."""

from __future__ import annotations

import httpx

from passerelle.deps import CSRF_COOKIE, SESSION_COOKIE
from tests.factories import PASSWORD, make_user
from tests.web.helpers import HTML, csrf_token, log_in, submit, text_of

REGISTRATION = {
    "email": "Chloe@Acheteurs.fr",
    "display_name": "Chloé",
    "password": PASSWORD,
    "country": "BE",
    "language": "fr",
    "currency": "EUR",
}


async def test_given_a_visitor_when_registering_with_the_form_then_logged_in_with_an_account_menu(
    web: httpx.AsyncClient,
) -> None:
    form = await web.get("/register")
    assert form.status_code == 200
    assert 'name="csrf_token"' in form.text and 'name="country"' in form.text

    created = await submit(web, "/register", REGISTRATION, token_from="/register")

    assert created.status_code == 303 and created.headers["location"] == "/"
    assert web.cookies.get(SESSION_COOKIE)
    cookie_header = created.headers["set-cookie"].lower()
    assert "httponly" in cookie_header and "samesite=lax" in cookie_header
    home = await web.get("/")
    assert "Chloé" in home.text and 'action="/logout"' in home.text


async def test_given_an_account_when_logging_in_and_out_then_the_session_opens_and_closes(
    web: httpx.AsyncClient, state
) -> None:
    buyer = await make_user(state)
    response = await log_in(web, buyer.user.email)
    assert response.headers["location"] == "/"
    assert buyer.user.display_name in (await web.get("/")).text

    logged_out = await submit(web, "/logout", {}, token_from="/")
    assert logged_out.status_code == 303
    assert not web.cookies.get(SESSION_COOKIE)
    assert 'href="/register"' in (await web.get("/")).text


async def test_given_a_login_with_next_then_it_returns_only_to_a_same_site_path(web: httpx.AsyncClient, state) -> None:
    buyer = await make_user(state)
    inside = await submit(web, "/login", {"email": buyer.user.email, "password": PASSWORD, "next": "/search?q=rose"})
    assert inside.headers["location"] == "/search?q=rose"
    web.cookies.delete(SESSION_COOKIE)
    for hostile in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        outside = await submit(web, "/login", {"email": buyer.user.email, "password": PASSWORD, "next": hostile})
        assert outside.headers["location"] == "/", hostile
        web.cookies.delete(SESSION_COOKIE)


async def test_given_a_form_post_without_the_csrf_token_then_it_is_refused(web: httpx.AsyncClient, state) -> None:
    buyer = await make_user(state)
    await web.get("/login")
    assert web.cookies.get(CSRF_COOKIE)

    no_token = await web.post("/login", data={"email": buyer.user.email, "password": PASSWORD})
    wrong_token = await web.post(
        "/login", data={"email": buyer.user.email, "password": PASSWORD, "csrf_token": "forged"}
    )
    register = await web.post("/register", data=REGISTRATION)

    for refused in (no_token, wrong_token, register):
        assert refused.status_code == 403
        assert "text/html" in refused.headers["content-type"]
    assert not web.cookies.get(SESSION_COOKIE)


async def test_given_a_logged_in_buyer_when_a_form_comes_without_a_token_then_refused(
    web: httpx.AsyncClient, state
) -> None:
    buyer = await make_user(state)
    await log_in(web, buyer.user.email)
    refused = await web.post("/prefs", data={"lang": "en", "next": "/"})
    assert refused.status_code == 403
    allowed = await web.post(
        "/prefs", data={"lang": "en", "next": "/"}, headers={"x-csrf-token": web.cookies[CSRF_COOKIE]}
    )
    assert allowed.status_code == 303


async def test_given_a_wrong_password_then_the_form_says_so_and_keeps_the_email(web: httpx.AsyncClient, state) -> None:
    buyer = await make_user(state)
    wrong = await submit(web, "/login", {"email": buyer.user.email, "password": "not the password"})
    assert wrong.status_code == 401
    assert "E-mail ou mot de passe incorrect" in wrong.text or "Wrong e-mail or password" in wrong.text
    assert f'value="{buyer.user.email}"' in wrong.text


async def test_given_bad_registration_input_then_the_message_is_next_to_the_field(web: httpx.AsyncClient) -> None:
    short = await submit(web, "/register", {**REGISTRATION, "password": "short"}, token_from="/register")
    assert short.status_code == 422
    assert 'id="password-error"' in short.text and "10" in text_of(short.text)

    bad_email = await submit(web, "/register", {**REGISTRATION, "email": "not-an-email"}, token_from="/register")
    assert bad_email.status_code == 422 and 'id="email-error"' in bad_email.text

    await submit(web, "/register", REGISTRATION, token_from="/register")
    web.cookies.delete(SESSION_COOKIE)
    taken = await submit(web, "/register", REGISTRATION, token_from="/register")
    assert taken.status_code == 409 and 'id="email-error"' in taken.text


async def test_given_many_wrong_passwords_then_the_login_form_is_rate_limited(web: httpx.AsyncClient, state) -> None:
    buyer = await make_user(state)
    token = await csrf_token(web)
    statuses = [
        (
            await web.post(
                "/login", data={"email": buyer.user.email, "password": "nope-nope", "csrf_token": token}, headers=HTML
            )
        ).status_code
        for _ in range(12)
    ]
    assert statuses[0] == 401 and statuses[-1] == 429
