"""JSON routes for accounts: register, bearer tokens, the current user."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from passerelle.accounts import service
from passerelle.accounts.models import User
from passerelle.accounts.schemas import PreferencesIn, RegisterIn, TokenIn, TokenOut, UserOut
from passerelle.cart import service as carts
from passerelle.cart.cookies import CART_COOKIE
from passerelle.deps import CurrentUser, Session, State, UnitOfWorkRoute, after_commit
from passerelle.errors import DomainError
from passerelle.http import client_ip

router = APIRouter(tags=["accounts"], route_class=UnitOfWorkRoute)


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        email=user.email,
        display_name=user.display_name,
        role=user.role,
        country=user.country,
        language=user.language,
        currency=user.currency,
    )


@router.post("/auth/register", status_code=201, response_model=UserOut)
async def register(body: RegisterIn, request: Request, session: Session, state: State) -> UserOut:
    allowed, wait = state.register_limiter.allow(client_ip(request))
    if not allowed:
        raise DomainError(
            "rate_limited", "Too many sign-ups from this address", status=429, extra={"retry_after": round(wait)}
        )
    user = await service.register(
        session,
        email=body.email,
        password=body.password,
        country=body.country,
        language=body.language,
        currency=body.currency,
        display_name=body.display_name,
    )
    return user_out(user)


@router.post("/auth/token", response_model=TokenOut)
async def token(body: TokenIn, request: Request, response: Response, session: Session, state: State) -> TokenOut:
    allowed, wait = state.login_limiter.allow(f"{client_ip(request)}|{body.email.lower()}")
    if not allowed:
        raise DomainError(
            "rate_limited", "Too many attempts; wait a minute", status=429, extra={"retry_after": round(wait)}
        )
    user = await service.authenticate(session, email=body.email, password=body.password)
    guest_cart = request.cookies.get(CART_COOKIE)
    if guest_cart:
        await carts.merge_guest_cart(session, guest_token=guest_cart, user_id=user.id)
        response.delete_cookie(CART_COOKIE)
    days = state.settings.api_token_days
    return TokenOut(access_token=await service.issue_api_token(session, user=user, days=days), expires_in=days * 86400)


@router.post("/auth/logout", status_code=204)
async def logout(request: Request, user: CurrentUser, session: Session, state: State) -> None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        token = header[7:].strip()
        await service.revoke_api_token(session, token=token)
        after_commit(session, lambda: state.api_token_users.forget_token(token))


@router.get("/me", response_model=UserOut)
async def me(user: CurrentUser) -> UserOut:
    return user_out(user)


@router.patch("/me", response_model=UserOut)
async def update_me(body: PreferencesIn, user: CurrentUser, session: Session, state: State) -> UserOut:
    await service.update_preferences(
        session, user=user, language=body.language, currency=body.currency, country=body.country
    )
    user_id = user.id
    after_commit(session, lambda: state.api_token_users.forget_user(user_id))
    return user_out(user)
