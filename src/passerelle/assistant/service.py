"""Answering a question, and the hand-off conversations. Never commits.

`respond` reads only public, cached facts, plus the asker's own orders when the question is
about orders, returns or a hand-off. The only write the assistant can make is `open_handoff`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.accounts.models import User
from passerelle.assistant import facts as facts_module
from passerelle.assistant import lang as lang_module
from passerelle.assistant.engine import Answer, Context, Question, answer
from passerelle.assistant.intents import Intent, parse
from passerelle.assistant.models import AuthorKind, Conversation, ConversationMessage, ConversationStatus, ReturnPolicy
from passerelle.assistant.runtime import Runtime
from passerelle.assistant.templates import say
from passerelle.db.base import utcnow
from passerelle.errors import DomainError, NotFound
from passerelle.merchants import service as merchants
from passerelle.merchants.models import Merchant

PERSONAL_INTENTS = frozenset({Intent.order_status, Intent.returns, Intent.handoff, Intent.unknown})
MAX_TEXT = 1000


@dataclass
class Reply:
    answer: Answer
    body: dict[str, Any]
    cacheable: bool
    question: str


async def respond(
    runtime: Runtime,
    *,
    text: str,
    language: str | None,
    fallback_language: str,
    currency: str,
    product_id: int | None,
    user_id: int | None,
) -> Reply:
    state = runtime.state
    fx = await state.fx()
    if not fx.knows(currency):
        currency = state.settings.base_currency
    index = await runtime.index()
    chosen = language or lang_module.detect(text, fallback=fallback_language, vocabulary=index.vocabulary)
    parsed = parse(text, currency=currency)
    public = await runtime.public_facts()
    orders = None
    if user_id is not None and parsed.intent in PERSONAL_INTENTS:
        orders = await runtime.buyer_orders(user_id, parsed.order_id)
    question = Question(text, chosen, currency, product_id, signed_in=user_id is not None)
    ctx = Context(index=index, fx=fx, facts=public, now=state.clock.now(), orders=orders)
    result = answer(parsed, question, ctx)
    cards = [c for c in (index.card(pid, chosen, currency, fx) for pid in result.product_ids) if c is not None]
    body: dict[str, Any] = {
        "reply": result.reply,
        "language": chosen,
        "intent": result.intent.value,
        "products": cards,
        "links": result.links,
        "conversation_id": None,
    }
    cacheable = user_id is None or (result.intent not in PERSONAL_INTENTS and not result.personal)
    if runtime.llm is not None and result.intent not in (Intent.refused, Intent.handoff):
        polished = await runtime.llm.rewrite(
            question=text, language=chosen, draft=result.reply, facts=_llm_facts(result, cards, orders)
        )
        if polished:
            body["reply"] = polished
            body["engine"] = "llm"
    return Reply(result, body, cacheable, text)


def _llm_facts(
    result: Answer, cards: list[dict[str, Any]], orders: Sequence[facts_module.OrderFact] | None
) -> dict[str, Any]:
    """The model's whole context: what the engine retrieved, and the asker's own orders."""
    facts: dict[str, Any] = {
        "intent": result.intent.value,
        "products": [
            {"title": c["title"], "price": c["price"], "merchant": c["merchant"]["name"], "url": c["url"]}
            for c in cards
        ],
        "links": result.links,
    }
    if orders is not None and result.personal:
        facts["my_orders"] = [
            {"id": o.id, "status": o.status.value, "merchant": o.merchant_name, "tracking_url": o.tracking_url}
            for o in orders[:5]
        ]
    return facts


async def open_handoff(session: AsyncSession, *, reply: Reply, buyer_id: int) -> Conversation:
    """The conversation with the merchant's staff that the engine asked for, and its first message."""
    target = reply.answer.handoff
    if target is None:
        raise ValueError("no hand-off requested")
    merchant = await session.get(Merchant, target.merchant_id)
    if merchant is None:
        raise NotFound("merchant")
    conversation = Conversation(
        buyer_id=buyer_id,
        merchant_id=merchant.id,
        product_id=target.product_id,
        order_id=target.order_id,
        language=reply.answer.language,
        subject=reply.question[:200],
        status=ConversationStatus.open,
    )
    session.add(conversation)
    await session.flush()
    session.add(
        ConversationMessage(
            conversation_id=conversation.id, author_kind=AuthorKind.buyer, author_id=buyer_id, body=reply.question
        )
    )
    await session.flush()
    lang = reply.answer.language
    reply.body["reply"] = say(lang, "handoff_created", merchant=merchant.name)
    reply.body["conversation_id"] = conversation.id
    reply.body["links"] = [
        {"label": say(lang, "link_conversation"), "url": f"/assistant/conversations/{conversation.id}"}
    ]
    return conversation


async def buyer_conversation(session: AsyncSession, *, buyer_id: int, conversation_id: int) -> Conversation:
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None or conversation.buyer_id != buyer_id:
        raise NotFound("conversation")
    return conversation


async def merchant_conversation(
    session: AsyncSession, *, user: User, merchant_id: int, conversation_id: int
) -> Conversation:
    await merchants.require_staff(session, user=user, merchant_id=merchant_id)
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None or conversation.merchant_id != merchant_id:
        raise NotFound("conversation")
    return conversation


async def messages(session: AsyncSession, *, conversation_id: int) -> list[ConversationMessage]:
    rows = await session.execute(
        select(ConversationMessage)
        .where(ConversationMessage.conversation_id == conversation_id)
        .order_by(ConversationMessage.id)
    )
    return list(rows.scalars())


async def add_message(
    session: AsyncSession, *, conversation: Conversation, author: User, kind: AuthorKind, body: str
) -> ConversationMessage:
    text = body.strip()
    if not text:
        raise DomainError("empty_message", "Write a message first", field="body", status=422)
    if conversation.status == ConversationStatus.closed:
        raise DomainError("conversation_closed", "This conversation is closed", status=409)
    message = ConversationMessage(
        conversation_id=conversation.id, author_kind=kind, author_id=author.id, body=text[: MAX_TEXT * 4]
    )
    session.add(message)
    conversation.status = ConversationStatus.answered if kind == AuthorKind.merchant else ConversationStatus.open
    conversation.updated_at = utcnow()
    await session.flush()
    return message


async def list_for_merchant(session: AsyncSession, *, user: User, merchant_id: int) -> list[Conversation]:
    await merchants.require_staff(session, user=user, merchant_id=merchant_id)
    rows = await session.execute(
        select(Conversation)
        .where(Conversation.merchant_id == merchant_id)
        .order_by(Conversation.updated_at.desc(), Conversation.id.desc())
        .limit(200)
    )
    return list(rows.scalars())


async def list_for_buyer(session: AsyncSession, *, buyer_id: int) -> list[tuple[Conversation, str]]:
    rows = await session.execute(
        select(Conversation, Merchant.name)
        .join(Merchant, Merchant.id == Conversation.merchant_id)
        .where(Conversation.buyer_id == buyer_id)
        .order_by(Conversation.updated_at.desc(), Conversation.id.desc())
        .limit(200)
    )
    return [(conversation, name) for conversation, name in rows.all()]


async def return_days(session: AsyncSession, *, merchant_id: int) -> int:
    policy = await session.get(ReturnPolicy, merchant_id)
    return policy.return_days if policy is not None else facts_module.DEFAULT_RETURN_DAYS


async def set_return_days(
    session: AsyncSession, *, user: User, merchant_id: int, days: int, note: str = ""
) -> ReturnPolicy:
    await merchants.require_owner(session, user=user, merchant_id=merchant_id)
    if not 0 <= days <= 365:
        raise DomainError("invalid_return_days", "A return window is 0 to 365 days", field="return_days", status=422)
    policy = await session.get(ReturnPolicy, merchant_id)
    if policy is None:
        policy = ReturnPolicy(merchant_id=merchant_id, return_days=days, note=note[:500])
        session.add(policy)
    else:
        policy.return_days = days
        policy.note = note[:500]
    await session.flush()
    return policy
