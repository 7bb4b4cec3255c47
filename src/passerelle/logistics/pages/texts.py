"""Words for tracking statuses, return statuses and refusals, translated at render time."""

from __future__ import annotations

from passerelle.errors import DomainError
from passerelle.i18n.messages import N_
from passerelle.web.context import Page

EVENT_LABELS: dict[str, str] = {
    "label_created": N_("Label created"),
    "picked_up": N_("Picked up by the carrier"),
    "in_transit": N_("In transit"),
    "customs": N_("In customs"),
    "out_for_delivery": N_("Out for delivery"),
    "delivered": N_("Parcel delivered"),
    "failed_attempt": N_("Delivery attempt failed"),
    "returned": N_("Returned to the sender"),
}

RETURN_LABELS: dict[str, str] = {
    "label_issued": N_("Return label issued"),
    "in_transit": N_("On its way back"),
    "received": N_("Received by the seller"),
    "refunded": N_("Refunded"),
}

MATERIALS: dict[str, str] = {
    "cardboard": N_("cardboard"),
    "paper": N_("paper"),
    "plastic": N_("plastic"),
    "glass": N_("glass"),
    "textile": N_("textile"),
    "metal": N_("metal"),
}

ERRORS: dict[str, str] = {
    "return_window_closed": N_("The return window of this order has closed."),
    "not_returnable": N_("Only a delivered order can be returned."),
    "nothing_to_return": N_("Choose at least one item to return."),
    "invalid_quantity": N_("Return at most the quantity that was bought."),
    "not_shippable": N_("This order cannot be shipped in its current state."),
    "invalid_parcels": N_("Check the parcels: weight and sizes must be positive."),
    "invalid_weight": N_("Check the parcels: weight and sizes must be positive."),
    "invalid_dimensions": N_("Check the parcels: weight and sizes must be positive."),
    "unknown_service": N_("Choose a carrier service from the list."),
    "already_refunded": N_("This return was already refunded."),
    "invalid_packaging": N_("Give the packaging's name and material."),
    "invalid_return_window": N_("The return window is between 0 and 365 days."),
    "unit_not_expected": N_("No line of this order is waiting for this unit."),
    "unit_already_packed": N_("This unit is already packed in an order."),
    "not_packable": N_("This order is not being packed."),
    "not_found": N_("We could not find what you were looking for"),
}


def error_message(page: Page, error: DomainError) -> str:
    return page.gettext(ERRORS.get(error.code, N_("That did not work")))


def event_label(page: Page, kind: str) -> str:
    return page.gettext(EVENT_LABELS.get(kind, kind))


def return_label(page: Page, status: str) -> str:
    return page.gettext(RETURN_LABELS.get(status, status))


def materials_text(page: Page, materials: str) -> str:
    """ "cardboard;paper" -> "carton, papier" (unknown materials are shown as given)."""
    return ", ".join(page.gettext(MATERIALS.get(m, m)) for m in materials.split(";") if m)
