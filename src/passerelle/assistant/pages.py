"""HTML routes of the hand-off conversations: the buyer's list and thread, and the merchant
console's inbox and reply form. Another buyer's or merchant's conversation is a plain 404."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import RedirectResponse, Response

from passerelle.assistant import service
from passerelle.assistant.models import AuthorKind
from passerelle.deps import Session, UnitOfWorkRoute
from passerelle.errors import DomainError
from passerelle.merchants import service as merchants
from passerelle.merchants.models import MemberRole
from passerelle.web.context import PageContext, form_text, page_guard, path_id

router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute, dependencies=[Depends(page_guard)])


@router.get("/assistant/conversations")
async def buyer_conversations(page: PageContext, session: Session) -> Response:
    user = page.require_user()
    found = await service.list_for_buyer(session, buyer_id=user.id)
    return page.render("assistant/conversations.html", conversations=found)


@router.get("/assistant/conversations/{conversation_ref}")
async def buyer_conversation(conversation_ref: str, page: PageContext, session: Session) -> Response:
    user = page.require_user()
    conversation = await service.buyer_conversation(
        session, buyer_id=user.id, conversation_id=path_id(conversation_ref, "conversation")
    )
    merchant = await merchants.get(session, merchant_id=conversation.merchant_id)
    thread = await service.messages(session, conversation_id=conversation.id)
    return page.render(
        "assistant/conversation.html",
        conversation=conversation,
        merchant=merchant,
        thread=thread,
        action=f"/assistant/conversations/{conversation.id}",
        error=None,
        as_merchant=False,
    )


@router.post("/assistant/conversations/{conversation_ref}")
async def buyer_writes(conversation_ref: str, page: PageContext, session: Session) -> Response:
    user = page.require_user()
    conversation = await service.buyer_conversation(
        session, buyer_id=user.id, conversation_id=path_id(conversation_ref, "conversation")
    )
    body = form_text(await page.form(), "body", max_length=4000)
    try:
        await service.add_message(session, conversation=conversation, author=user, kind=AuthorKind.buyer, body=body)
    except DomainError as error:
        merchant = await merchants.get(session, merchant_id=conversation.merchant_id)
        thread = await service.messages(session, conversation_id=conversation.id)
        return page.render(
            "assistant/conversation.html",
            status=error.status_code,
            conversation=conversation,
            merchant=merchant,
            thread=thread,
            action=f"/assistant/conversations/{conversation.id}",
            error=page.gettext(error.message),
            as_merchant=False,
        )
    return RedirectResponse(f"/assistant/conversations/{conversation.id}", status_code=303)


@router.get("/console/m/{merchant_ref}/conversations")
async def merchant_inbox(merchant_ref: str, page: PageContext, session: Session) -> Response:
    user = page.require_user()
    merchant_id = path_id(merchant_ref, "merchant")
    merchant = await merchants.require_staff(session, user=user, merchant_id=merchant_id)
    found = await service.list_for_merchant(session, user=user, merchant_id=merchant_id)
    membership = await merchants.membership(session, user=user, merchant_id=merchant_id)
    return page.render(
        "assistant/console_inbox.html",
        merchant=merchant,
        conversations=found,
        is_owner=membership is not None and membership.role == MemberRole.owner,
        return_days=await service.return_days(session, merchant_id=merchant_id),
        saved=page.request.query_params.get("saved") == "1",
    )


@router.post("/console/m/{merchant_ref}/return-policy")
async def merchant_return_policy(merchant_ref: str, page: PageContext, session: Session) -> Response:
    """The return window the assistant quotes to buyers (owners only)."""
    user = page.require_user()
    merchant_id = path_id(merchant_ref, "merchant")
    raw = form_text(await page.form(), "return_days", max_length=3)
    days = int(raw) if raw.isdigit() else -1
    await service.set_return_days(session, user=user, merchant_id=merchant_id, days=days)
    return RedirectResponse(f"/console/m/{merchant_id}/conversations?saved=1", status_code=303)


@router.get("/console/m/{merchant_ref}/conversations/{conversation_ref}")
async def merchant_thread(merchant_ref: str, conversation_ref: str, page: PageContext, session: Session) -> Response:
    user = page.require_user()
    merchant_id = path_id(merchant_ref, "merchant")
    conversation = await service.merchant_conversation(
        session, user=user, merchant_id=merchant_id, conversation_id=path_id(conversation_ref, "conversation")
    )
    merchant = await merchants.get(session, merchant_id=merchant_id)
    thread = await service.messages(session, conversation_id=conversation.id)
    return page.render(
        "assistant/conversation.html",
        conversation=conversation,
        merchant=merchant,
        thread=thread,
        action=f"/console/m/{merchant_id}/conversations/{conversation.id}",
        error=None,
        as_merchant=True,
    )


@router.post("/console/m/{merchant_ref}/conversations/{conversation_ref}")
async def merchant_replies(merchant_ref: str, conversation_ref: str, page: PageContext, session: Session) -> Response:
    user = page.require_user()
    merchant_id = path_id(merchant_ref, "merchant")
    conversation = await service.merchant_conversation(
        session, user=user, merchant_id=merchant_id, conversation_id=path_id(conversation_ref, "conversation")
    )
    body = form_text(await page.form(), "body", max_length=4000)
    try:
        await service.add_message(session, conversation=conversation, author=user, kind=AuthorKind.merchant, body=body)
    except DomainError as error:
        merchant = await merchants.get(session, merchant_id=merchant_id)
        thread = await service.messages(session, conversation_id=conversation.id)
        return page.render(
            "assistant/conversation.html",
            status=error.status_code,
            conversation=conversation,
            merchant=merchant,
            thread=thread,
            action=f"/console/m/{merchant_id}/conversations/{conversation.id}",
            error=page.gettext(error.message),
            as_merchant=True,
        )
    return RedirectResponse(f"/console/m/{merchant_id}/conversations/{conversation.id}", status_code=303)
