"""JSON routes: POST /api/v1/assistant/messages (also served by the fast path) and the
hand-off conversations of buyers and merchants' staff."""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from passerelle.accounts.models import User
from passerelle.assistant import service
from passerelle.assistant.lang import ANSWER_LANGUAGES
from passerelle.assistant.models import AuthorKind, Conversation
from passerelle.assistant.runtime import Runtime, runtime_of
from passerelle.assistant.schemas import (
    ConversationMessageOut,
    ConversationOut,
    MessageIn,
    MessageOut,
    ReplyIn,
    ReturnPolicyIn,
)
from passerelle.assistant.templates import say
from passerelle.config import SUPPORTED_LANGUAGES
from passerelle.deps import (
    CSRF_HEADER,
    CURRENCY_COOKIE,
    LANG_COOKIE,
    CurrentUser,
    Session,
    UnitOfWorkRoute,
)
from passerelle.errors import DomainError
from passerelle.festival.token_cache import CSRF_FAILED, credentials
from passerelle.http import PathId, client_ip
from passerelle.i18n.languages import negotiate
from passerelle.state import AppState

log = logging.getLogger("passerelle.assistant")
router = APIRouter(tags=["assistant"])
conversations = APIRouter(tags=["assistant"], route_class=UnitOfWorkRoute)

MESSAGE_DOC: dict[str, Any] = {
    "requestBody": {"required": True, "content": {"application/json": {"schema": MessageIn.model_json_schema()}}}
}


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json", headers=headers)


def _problem(status: int, code: str, message: str, **extra: Any) -> Response:
    headers = {"Retry-After": str(extra.pop("retry_after"))} if "retry_after" in extra else None
    return _json({"code": code, "message": message, **extra}, status, headers)


# Browsers send a handful of distinct Accept-Language headers: parse each once.
_negotiate = lru_cache(maxsize=4096)(negotiate)


class _Refusal(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


async def _asker(request: Request, state: AppState) -> int | None:
    """The signed-in buyer, from a bearer token or the session cookie (with its CSRF header)."""
    headers = request.headers
    signed_in = credentials(headers.get("authorization", ""), headers.get("cookie", ""), headers.get(CSRF_HEADER, ""))
    if signed_in is None:
        return None
    if signed_in is CSRF_FAILED:
        raise _Refusal(_problem(403, "csrf_failed", "This form has expired; reload the page and retry"))
    assert isinstance(signed_in, tuple)
    user_id = await state.token_cache.user_id(*signed_in)
    if user_id is None and signed_in[1] == "bearer":
        raise _Refusal(_problem(401, "unauthorized", "Invalid or expired API token"))
    return user_id


async def _locale(request: Request, runtime: Runtime, user_id: int | None) -> tuple[str, str]:
    """(the viewer's language, for unsure detection; the viewer's currency, for prices)."""
    settings = runtime.state.settings
    profile = await runtime.profile(user_id) if user_id is not None else None
    cookie_lang = request.cookies.get(LANG_COOKIE)
    if profile is not None:
        language = profile.language
    elif cookie_lang in SUPPORTED_LANGUAGES:
        language = str(cookie_lang)
    else:
        language = _negotiate(request.headers.get("accept-language"), settings.default_language)
    currency = (request.query_params.get("currency") or "").upper()
    if not currency:
        currency = profile.currency if profile else (request.cookies.get(CURRENCY_COOKIE) or "").upper()
    return language, currency or settings.base_currency


@router.post(
    "/assistant/messages",
    response_model=None,
    responses={200: {"model": MessageOut}, 422: {}, 429: {}},
    openapi_extra=MESSAGE_DOC,
)
async def post_message(request: Request) -> Response:
    """Ask the shopping assistant. Guests: products, deals, return windows. Signed-in buyers
    also: their own orders, and a hand-off to the merchant's staff (`conversation_id`)."""
    # The fast path calls this without FastAPI's error handlers: answer errors here.
    try:
        return await _post_message(request)
    except DomainError as error:
        return _json(error.as_problem(), error.status_code)
    except Exception:
        log.exception("assistant: unexpected error")
        return _problem(500, "internal_error", "Something went wrong on our side")


async def _post_message(request: Request) -> Response:
    state: AppState = request.app.state.passerelle
    runtime = runtime_of(request.app.state, state)
    allowed, wait = runtime.ip_limiter.allow(client_ip(request))
    if not allowed:
        return _problem(429, "rate_limited", "Too many questions; wait a moment", retry_after=max(1, round(wait)))
    try:
        data = MessageIn.model_validate_json(await request.body())
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ()))
        return _problem(422, "invalid_request", str(first.get("msg", "Invalid request")), field=field or None)
    if data.language is not None and data.language not in ANSWER_LANGUAGES:
        return _problem(422, "unsupported_language", f"Use one of {', '.join(ANSWER_LANGUAGES)}", field="language")
    try:
        user_id = await _asker(request, state)
    except _Refusal as refusal:
        return refusal.response
    if user_id is not None:
        allowed, wait = runtime.account_limiter.allow(str(user_id))
        if not allowed:
            return _problem(429, "rate_limited", "Too many questions; wait a moment", retry_after=max(1, round(wait)))
    fallback, currency = await _locale(request, runtime, user_id)
    if data.conversation_id is not None:
        return await _follow_up(state, data, user_id, fallback)
    # Case and spacing do not change an answer: "Bonjour " and "bonjour" share one.
    key = (" ".join(data.text.casefold().split()), data.language, fallback, currency, data.product_id, user_id is None)
    cached = runtime.cached_answer(key)
    if cached is not None:
        return Response(cached, media_type="application/json")
    reply = await service.respond(
        runtime,
        text=data.text,
        language=data.language,
        fallback_language=fallback,
        currency=currency,
        product_id=data.product_id,
        user_id=user_id,
    )
    if reply.answer.handoff is not None and user_id is not None:
        async with state.db.write_guard(), state.db.sessions() as session:
            await service.open_handoff(session, reply=reply, buyer_id=user_id)
            await session.commit()
    body = orjson.dumps(reply.body)
    if reply.cacheable and reply.answer.handoff is None:
        runtime.keep_answer(key, body)
    return Response(body, media_type="application/json")


async def _follow_up(state: AppState, data: MessageIn, user_id: int | None, fallback: str) -> Response:
    """The buyer writes again in an open hand-off: the text goes to the merchant's staff."""
    if user_id is None:
        return _problem(401, "unauthorized", "Log in to write to the seller")
    assert data.conversation_id is not None
    language = data.language or fallback
    async with state.db.write_guard(), state.db.sessions() as session:
        try:
            conversation = await service.buyer_conversation(
                session, buyer_id=user_id, conversation_id=data.conversation_id
            )
            author = await session.get(User, user_id)
            assert author is not None
            await service.add_message(
                session, conversation=conversation, author=author, kind=AuthorKind.buyer, body=data.text
            )
        except DomainError as error:
            await session.rollback()
            return _json(error.as_problem(), error.status_code)
        await session.commit()
    link = {"label": say(language, "link_conversation"), "url": f"/assistant/conversations/{conversation.id}"}
    return _json(
        {
            "reply": say(language, "sent"),
            "language": language,
            "intent": "handoff",
            "products": [],
            "links": [link],
            "conversation_id": conversation.id,
        }
    )


async def _out(session: Session, conversation: Conversation, *, merchant_name: str | None = None) -> ConversationOut:
    found = await service.messages(session, conversation_id=conversation.id)
    return ConversationOut(
        id=conversation.id,
        merchant_id=conversation.merchant_id,
        merchant_name=merchant_name,
        product_id=conversation.product_id,
        order_id=conversation.order_id,
        subject=conversation.subject,
        status=conversation.status.value,
        updated_at=conversation.updated_at,
        messages=[
            ConversationMessageOut(id=m.id, author=m.author_kind.value, body=m.body, created_at=m.created_at)
            for m in found
        ],
    )


@conversations.get("/assistant/conversations")
async def my_conversations(user: CurrentUser, session: Session) -> list[ConversationOut]:
    """The buyer's hand-off conversations, latest first (without their messages)."""
    found = await service.list_for_buyer(session, buyer_id=user.id)
    return [
        ConversationOut(
            id=c.id,
            merchant_id=c.merchant_id,
            merchant_name=name,
            product_id=c.product_id,
            order_id=c.order_id,
            subject=c.subject,
            status=c.status.value,
            updated_at=c.updated_at,
        )
        for c, name in found
    ]


@conversations.get("/assistant/conversations/{conversation_id}")
async def my_conversation(conversation_id: PathId, user: CurrentUser, session: Session) -> ConversationOut:
    conversation = await service.buyer_conversation(session, buyer_id=user.id, conversation_id=conversation_id)
    return await _out(session, conversation)


@conversations.post("/assistant/conversations/{conversation_id}/messages", status_code=201)
async def write_to_merchant(
    conversation_id: PathId, data: ReplyIn, user: CurrentUser, session: Session
) -> ConversationOut:
    conversation = await service.buyer_conversation(session, buyer_id=user.id, conversation_id=conversation_id)
    await service.add_message(session, conversation=conversation, author=user, kind=AuthorKind.buyer, body=data.body)
    return await _out(session, conversation)


@conversations.get("/merchants/{merchant_id}/conversations")
async def merchant_conversations(merchant_id: PathId, user: CurrentUser, session: Session) -> list[ConversationOut]:
    """Hand-offs opened by the assistant with this merchant (its staff only)."""
    found = await service.list_for_merchant(session, user=user, merchant_id=merchant_id)
    return [
        ConversationOut(
            id=c.id,
            merchant_id=c.merchant_id,
            product_id=c.product_id,
            order_id=c.order_id,
            subject=c.subject,
            status=c.status.value,
            updated_at=c.updated_at,
        )
        for c in found
    ]


@conversations.get("/merchants/{merchant_id}/conversations/{conversation_id}")
async def merchant_conversation(
    merchant_id: PathId, conversation_id: PathId, user: CurrentUser, session: Session
) -> ConversationOut:
    conversation = await service.merchant_conversation(
        session, user=user, merchant_id=merchant_id, conversation_id=conversation_id
    )
    return await _out(session, conversation)


@conversations.post("/merchants/{merchant_id}/conversations/{conversation_id}/replies", status_code=201)
async def reply_to_buyer(
    merchant_id: PathId, conversation_id: PathId, data: ReplyIn, user: CurrentUser, session: Session
) -> ConversationOut:
    conversation = await service.merchant_conversation(
        session, user=user, merchant_id=merchant_id, conversation_id=conversation_id
    )
    await service.add_message(session, conversation=conversation, author=user, kind=AuthorKind.merchant, body=data.body)
    return await _out(session, conversation)


@conversations.put("/merchants/{merchant_id}/return-policy")
async def set_return_policy(
    merchant_id: PathId, data: ReturnPolicyIn, user: CurrentUser, session: Session
) -> dict[str, Any]:
    """The merchant's return window in days (0: no returns), which the assistant quotes."""
    policy = await service.set_return_days(
        session, user=user, merchant_id=merchant_id, days=data.return_days, note=data.note
    )
    return {"merchant_id": merchant_id, "return_days": policy.return_days, "note": policy.note}
