"""Texts of the order e-mails in the reader's language (French and English)."""

from __future__ import annotations

TEXTS: dict[str, dict[str, tuple[str, str]]] = {
    "paid_buyer": {
        "fr": (
            "Commande n°{order} confirmée",
            "Bonjour {name},\n\nVotre paiement est reçu : la commande n°{order} chez {merchant} ({total}) est confirmée.\nSuivez-la sur {url}\n\nMerci de votre achat,\npasserelle",
        ),
        "en": (
            "Order #{order} confirmed",
            "Hello {name},\n\nWe received your payment: order #{order} from {merchant} ({total}) is confirmed.\nFollow it at {url}\n\nThank you for your purchase,\npasserelle",
        ),
    },
    "paid_merchant": {
        "fr": (
            "Nouvelle commande n°{order}",
            "Nouvelle commande payée n°{order} ({total}).\nÀ accepter et expédier depuis votre console : {url}",
        ),
        "en": ("New order #{order}", "New paid order #{order} ({total}).\nAccept and ship it from your console: {url}"),
    },
    "cancelled_buyer": {
        "fr": (
            "Commande n°{order} annulée",
            "Bonjour {name},\n\nLa commande n°{order} chez {merchant} est annulée ({reason}). Rien ne vous a été débité pour elle.",
        ),
        "en": (
            "Order #{order} cancelled",
            "Hello {name},\n\nOrder #{order} from {merchant} was cancelled ({reason}). You were not charged for it.",
        ),
    },
    "refunded_buyer": {
        "fr": (
            "Remboursement de la commande n°{order}",
            "Bonjour {name},\n\n{merchant} vous rembourse {amount} sur la commande n°{order}.",
        ),
        "en": ("Refund for order #{order}", "Hello {name},\n\n{merchant} refunded {amount} on order #{order}."),
    },
    "unfulfillable_buyer": {
        "fr": (
            "Commande n°{order} : article épuisé, remboursé",
            "Bonjour {name},\n\nVotre paiement est arrivé après l'expiration de la réservation et l'article n'est plus disponible. La commande n°{order} est annulée et vous êtes remboursé intégralement.",
        ),
        "en": (
            "Order #{order}: sold out, refunded",
            "Hello {name},\n\nYour payment arrived after the reservation expired and the item is no longer available. Order #{order} is cancelled and you are refunded in full.",
        ),
    },
}

REASONS = {
    "expired": {"fr": "paiement non reçu à temps", "en": "payment not received in time"},
    "payment_failed": {"fr": "paiement refusé", "en": "payment declined"},
    "": {"fr": "à votre demande", "en": "as requested"},
}


def render(kind: str, language: str, **values: str) -> tuple[str, str]:
    subject, body = TEXTS[kind].get(language) or TEXTS[kind]["en"]
    return subject.format(**values), body.format(**values)


def reason_text(reason: str, language: str) -> str:
    texts = REASONS.get(reason, REASONS[""])
    return texts.get(language, texts["en"])
