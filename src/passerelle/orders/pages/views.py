"""What the order pages show, prepared for templates: status timelines, dates, error texts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from babel.dates import format_datetime
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.accounts.models import User
from passerelle.errors import DomainError
from passerelle.i18n.countries import country_name
from passerelle.i18n.messages import N_
from passerelle.orders.schemas import OrderEventOut
from passerelle.web.context import Page
from passerelle.web.errors import error_text

STATUS_LABELS: dict[str, str] = {
    "pending_payment": N_("Awaiting payment"),
    "paid": N_("Paid"),
    "accepted": N_("Accepted by the seller"),
    "shipped": N_("Shipped"),
    "delivered": N_("Delivered"),
    "completed": N_("Completed"),
    "cancelled": N_("Cancelled"),
    "refunded": N_("Refunded"),
}

ACTOR_LABELS: dict[str, str] = {
    "buyer": N_("Buyer"),
    "merchant": N_("Seller"),
    "operator": N_("passerelle team"),
    "system": N_("passerelle"),
    "psp": N_("Payment provider"),
}

# Checkout and order refusals in words for buyers and sellers, one sentence per stable code.
CHECKOUT_ERRORS: dict[str, str] = {
    "empty_cart": N_("Your cart is empty."),
    "not_for_sale": N_("An item of your cart is no longer for sale; remove it from the cart."),
    "out_of_stock": N_("There is not enough stock left for one of the items; lower its quantity in the cart."),
    "in_progress": N_("Your order is already being placed; wait a moment and reload the page."),
    "idempotency_key_reused": N_("This form was already sent. Reload the page to check out again."),
    "invalid_transition": N_("This order has moved on; reload the page."),
    "order_changed": N_("This order has moved on; reload the page."),
    "not_refundable": N_("This order cannot be refunded in its current state."),
    "not_paid": N_("This order has no captured payment to refund."),
    "nothing_to_refund": N_("Give an amount to refund, or the returned items."),
    "invalid_quantity": N_("Return at most the quantity that was bought."),
    "forbidden": N_("You may not do this"),
}


@dataclass(frozen=True)
class TimelineEntry:
    label: str
    who: str
    at: datetime
    when: str
    note: str


def when(page: Page, at: datetime) -> str:
    """A date and time in UTC (the viewer's zone is unknown; the page script shows local time)."""
    moment = at if at.tzinfo else at.replace(tzinfo=UTC)
    return f"{format_datetime(moment, 'medium', tzinfo=UTC, locale=page.locale.language)} UTC"


def status_label(page: Page, status: str) -> str:
    return page.gettext(STATUS_LABELS.get(status, status))


def _event_label(page: Page, event: OrderEventOut) -> str:
    if event.from_status == event.to_status:
        # Same status: a partial refund, or a late payment refunded because the stock was gone.
        if event.to_status == "cancelled":
            return page.gettext("Refunded in full: the item was gone when the payment arrived")
        return page.gettext("Partial refund")
    return status_label(page, event.to_status)


async def timeline(
    page: Page, session: AsyncSession, events: list[OrderEventOut], *, viewer_is_buyer: bool, show_notes: bool
) -> list[TimelineEntry]:
    """Who did what and when. Buyers see roles only; the seller's team also sees names and notes."""
    names: dict[int, str] = {}
    actor_ids = {e.actor_id for e in events if e.actor_id is not None}
    if actor_ids and not viewer_is_buyer:
        rows = await session.execute(select(User.id, User.display_name).where(User.id.in_(actor_ids)))
        names = {user_id: name for user_id, name in rows.all()}
    entries = []
    for event in events:
        if viewer_is_buyer and event.actor_kind == "buyer":
            who = page.gettext("You")
        else:
            who = page.gettext(ACTOR_LABELS.get(event.actor_kind, event.actor_kind))
            name = names.get(event.actor_id) if event.actor_id is not None else None
            if name and event.actor_kind in ("merchant", "operator"):
                who = f"{who} ({name})"
        entries.append(
            TimelineEntry(
                label=_event_label(page, event),
                who=who,
                at=event.at,
                when=when(page, event.at),
                note=event.note if show_notes else "",
            )
        )
    return entries


def order_error(
    page: Page,
    error: DomainError,
    *,
    country: str = "",
    titles: dict[int, str] | None = None,
    merchant_names: dict[int, str] | None = None,
) -> str:
    """A service refusal in the viewer's language, naming the item or seller when known."""
    extra = error.extra
    if error.code == "not_shipped_to":
        return page.gettext(
            "%(merchant)s does not deliver to %(country)s.",
            merchant=(merchant_names or {}).get(int(extra.get("merchant_id", 0)), "?"),
            country=country_name(country, page.locale.language),
        )
    if error.code == "below_minimum_order":
        return page.gettext(
            "Order at least %(quantity)s units of %(title)s.",
            quantity=extra.get("min_order_quantity", ""),
            title=(titles or {}).get(int(extra.get("product_id", 0)), "?"),
        )
    template = CHECKOUT_ERRORS.get(error.code)
    return page.gettext(template) if template else error_text(page.translations, error)
