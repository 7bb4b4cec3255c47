"""Intent detection: precompiled patterns over the folded question (accents and case removed).

The order of the checks is the policy: a refusal beats everything, a request for a person
beats a question the engine could try to answer, a return beats an order status.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from passerelle.assistant.prices import PriceBounds, parse_prices
from passerelle.search.text import fold


class Intent(enum.StrEnum):
    greeting = "greeting"
    help = "help"
    product_search = "product_search"
    deal_times = "deal_times"
    order_status = "order_status"
    returns = "returns"
    handoff = "handoff"
    refused = "refused"
    unknown = "unknown"


def _words(*alternatives: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")\b")


# Attempts to widen the assistant's reach: other people's data, new "instructions", SQL.
INJECTION = re.compile(
    "|".join(
        (
            r"\b(?:ignore\w*|disregard|forget|oublie\w*|ignora\w*|olvida\w*|vergiss|dimentica\w*)\b.{0,60}"
            r"\b(?:instructions?|rules?|regles?|consignes?|prompts?|instrucciones|reglas|anweisungen|regeln"
            r"|istruzioni|regole|above|ci-dessus|precedent\w*|previous|anterior\w*|vorherige\w*)\b",
            r"\b(?:system prompt|prompt systeme|developer mode|mode developpeur|jailbreak|you are now|tu es maintenant"
            r"|act as|agis comme|pretend)\b",
            r"\b(?:another|other|others|someone|somebody|autres?|quelqu'?un|otros?|otras?|alguien|andere\w*|jemand\w*"
            r"|altr[oiae]|qualcuno)\b\W+(?:\w+\W+){0,3}?(?:users?|buyers?|customers?|clients?|utilisateurs?|acheteurs?"
            r"|usuarios?|compradores?|kunden|nutzer\w*|utent[ei]|person\w*|else)\b",
            r"\b(?:user|utilisateur|usuario|client|buyer|acheteur|kunde|nutzer|utente|customer)\s*(?:id\s*)?[#n°:]?\s*\d+",
            r"\b(?:select\b.{0,80}\bfrom|union\s+(?:all\s+)?select|drop\s+table|insert\s+into|delete\s+from"
            r"|update\s+\w+\s+set|sleep\s*\(|pg_sleep|information_schema|sqlite_master)\b",
            r"'\s*or\s+'?\d+'?\s*=\s*'?\d+|\bor\s+1\s*=\s*1\b|;\s*--|<script",
            r"\b(?:admin|administrat\w*|operator|operateur|root|superuser)\b.{0,30}"
            r"\b(?:access|acces|mode|password|mot de passe|rights?|droits?|privileges?)\b",
            r"\b(?:change|modif\w*|cancel|annule\w*|delete|supprime\w*|refund me|rembourse[- ]moi|set)\b.{0,30}"
            r"\b(?:status|statut|price|prix|stock|order \d+|commande \d+)\b",
        )
    )
)
# Literal pieces of every INJECTION branch: most questions contain none of them, and this
# flat scan costs a third of the full pattern. Keep it a superset when INJECTION changes.
INJECTION_HINTS = re.compile(
    r"ignor|disregard|forget|oubli|olvid|vergiss|dimentic|system|develop|jailbreak|you are now|tu es maintenant"
    r"|act as|agis comme|pretend|other|someone|somebody|autre|quelqu|otr[oa]|alguien|ander|jemand|altr|qualcun"
    r"|user|utilisat|usuario|client|buyer|acheteur|kunde|nutzer|utente|customer|select|union|drop|insert|delete"
    r"|update|sleep|information_schema|sqlite_master|'|;|=|<script|admin|operat|root|superuser|change|modif"
    r"|cancel|annul|supprim|refund me|rembourse|set"
)
# "all orders" is a refusal, "all my orders" is the asker's own business.
EVERYONE = re.compile(
    r"\b(?:all|every|everyone'?s?|tous|toutes|todos|todas|alle|tutti|tutte)\b\W+(?:[\w']+\W+){0,3}?"
    r"(?:orders?|commandes?|pedidos?|bestellungen|ordini|users?|utilisateurs?|customers?|clients?|buyers?"
    r"|acheteurs?|usuarios?|compradores?|kunden|utenti|passwords?|emails?|addresses|adresses)\b"
)
OWN = re.compile(r"\b(?:my|mes|mis|meine\w*|miei|mie|mon|ma)\b")
HANDOFF = re.compile(
    r"\b(?:talk|speak|chat|contact|write|parler|contacter|joindre|ecrire|hablar|contactar|escribir|sprechen"
    r"|kontaktieren|schreiben|parlare|contattare|scrivere)\b.{0,40}"
    r"\b(?:human|humain|humano|mensch\w*|umano|person\w*|someone|quelqu'?un|alguien|jemand\w*|qualcuno|agent\w*"
    r"|seller|vendeu\w*|vendedor\w*|verkaufer\w*|venditor\w*|merchant|marchand|shop|boutique|tienda|laden|negozio"
    r"|staff|support|service|team|equipe|equipo)\b"
    r"|\b(?:human|humain|humano|real person|vraie personne|persona real|echte person|persona vera"
    r"|customer service|service client|atencion al cliente|kundenservice|kundendienst|servizio clienti)\b"
)
RETURNS = _words(
    r"return\w*",
    r"retour\w*",
    r"renvo\w*",
    r"rembours\w*",
    r"refund\w*",
    r"devol\w*",
    r"reembols\w*",
    r"zuruck\w*",
    r"ruckgabe\w*",
    r"erstatt\w*",
    r"umtausch\w*",
    r"restitu\w*",
    r"reso",
    r"rimbors\w*",
    r"exchange",
    r"echange\w*",
    r"retractation",
)
ORDER = _words(
    r"orders?",
    r"commandes?",
    r"pedidos?",
    r"bestellung\w*",
    r"ordin[ei]",
    r"colis",
    r"parcels?",
    r"packages?",
    r"paquetes?",
    r"pakete?",
    r"pacc[oh]i?",
    r"livraisons?",
    r"livre",
    r"deliver\w*",
    r"entrega\w*",
    r"liefer\w*",
    r"consegn\w*",
    r"tracking",
    r"suivi",
    r"track",
    r"seguimiento",
    r"sendung\w*",
    r"tracciamento",
    r"shipped",
    r"shipping",
    r"expedi\w*",
    r"envio",
    r"enviado",
    r"spedizion\w*",
    r"spedito",
)
DEALS = _words(
    r"deals?",
    r"offres?",
    r"ofertas?",
    r"angebot\w*",
    r"offert[ae]",
    r"promos?",
    r"promotions?",
    r"promociones?",
    r"promozion[ei]",
    r"flash",
    r"ventes? flash",
    r"festival",
    r"soldes",
    r"sales?",
    r"rebajas",
    r"saldi",
    r"11\.11",
    r"singles",
    r"prevente",
    r"presales?",
    r"preventa",
    r"vorverkauf",
    r"prevendita",
)
GREETING = re.compile(
    r"^\W*(?:hello|hi|hey|good (?:morning|evening|afternoon)|bonjour|salut|bonsoir|coucou|hola|buenas|buenos dias"
    r"|hallo|guten (?:tag|morgen|abend)|servus|ciao|buongiorno|buonasera|salve)\b"
)
HELP = _words(
    r"help",
    r"aide",
    r"aidez",
    r"aider",
    r"ayuda",
    r"ayudar\w*",
    r"hilfe",
    r"helfen",
    r"aiuto",
    r"aiutare",
    r"what can you do",
    r"que (?:peux|pouvez)[- ](?:tu|vous) faire",
    r"que puedes hacer",
    r"was kannst du",
    r"cosa puoi fare",
)
SHOPPING = _words(
    r"cherche\w*",
    r"recherche\w*",
    r"looking for",
    r"look for",
    r"search\w*",
    r"find",
    r"trouver",
    r"busc\w*",
    r"encontrar",
    r"such\w*",
    r"cerc\w*",
    r"trovare",
    r"want",
    r"veux",
    r"voudrais",
    r"quiero",
    r"quisiera",
    r"mochte",
    r"vorrei",
    r"voglio",
    r"need",
    r"besoin",
    r"necesito",
    r"brauche",
    r"bisogno",
    r"show me",
    r"montre\w*",
    r"muestra\w*",
    r"zeig\w*",
    r"mostra\w*",
    r"recommend\w*",
    r"recommand\w*",
    r"recomienda\w*",
    r"empfehl\w*",
    r"empfiehl\w*",
    r"consigli\w*",
    r"gifts?",
    r"cadeaux?",
    r"regalos?",
    r"geschenk\w*",
    r"regal[oi]",
    r"buy",
    r"acheter",
    r"comprar",
    r"kaufen",
    r"comprare",
)
ORDER_NUMBER = re.compile(r"(?<![\d.,])#?\s*(\d{1,12})(?![\d.,]*\s*(?:€|\$|£|¥|eur|usd|gbp|ml|cm|g\b|kg|%))")


@dataclass(frozen=True, slots=True)
class Parsed:
    intent: Intent
    folded: str
    search_text: str  # the question without its price phrases, for retrieval
    prices: PriceBounds
    order_id: int | None = None
    shopping_words: bool = False


def parse(text: str, *, currency: str) -> Parsed:
    folded = fold(text)
    prices, rest = parse_prices(folded, viewer_currency=currency)
    shopping = bool(SHOPPING.search(rest))
    everyone = EVERYONE.search(folded)
    attack = INJECTION_HINTS.search(folded) is not None and INJECTION.search(folded) is not None
    if attack or (everyone and not OWN.search(everyone.group(0))):
        return Parsed(Intent.refused, folded, rest, prices)
    if HANDOFF.search(folded):
        return Parsed(Intent.handoff, folded, _cut(HANDOFF, rest), prices, _order_number(rest))
    if RETURNS.search(folded):
        return Parsed(Intent.returns, folded, _cut(RETURNS, _cut(ORDER, rest)), prices, _order_number(rest))
    if ORDER.search(folded) and not (prices.bounded and shopping):
        return Parsed(Intent.order_status, folded, rest, prices, _order_number(rest))
    if DEALS.search(folded) and not prices.bounded:
        return Parsed(Intent.deal_times, folded, _cut(DEALS, rest), prices)
    if GREETING.search(folded) and len(folded.split()) <= 4:
        return Parsed(Intent.greeting, folded, rest, prices)
    if HELP.search(folded) and not shopping:
        return Parsed(Intent.help, folded, rest, prices)
    # Anything else is tried against the catalog; the engine decides if nothing matched.
    return Parsed(Intent.product_search, folded, rest, prices, shopping_words=shopping)


def _cut(pattern: re.Pattern[str], text: str) -> str:
    """The text without the words that chose the intent: what is left may name a product."""
    return pattern.sub(" ", text)


def _order_number(text: str) -> int | None:
    match = ORDER_NUMBER.search(text)
    return int(match.group(1)) if match else None
