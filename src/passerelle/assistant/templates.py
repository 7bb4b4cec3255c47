"""Answer templates per language (fr, en, es, de, it), filled with str.format.

Kept out of the UI message catalogs: these are the assistant's words, chosen by the
question's language, not by the page's interface language (the catalogs only cover fr and en).
A message that depends on a number is a tuple of plural forms, in gettext's order, chosen
by its `count` with the language's gettext Plural-Forms rule, as ngettext does.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable
from functools import cache

# gettext Plural-Forms expressions (the `plural=` of a .po header; fr and en as in the UI
# catalogs): the index of the form to use for n. French keeps 0 and 1 singular.
PLURAL_FORMS: dict[str, str] = {"fr": "n > 1", "en": "n != 1", "es": "n != 1", "de": "n != 1", "it": "n != 1"}

Message = str | tuple[str, ...]

TEMPLATES: dict[str, dict[str, Message]] = {
    "fr": {
        "sent": "Message envoyé au vendeur : sa réponse apparaîtra ici.",
        "greeting": "Bonjour ! Je peux chercher des produits, donner les horaires des offres, suivre vos commandes"
        " et vous dire comment retourner un article.",
        "help": "Demandez-moi par exemple : « je cherche un parfum floral à moins de 60 € », « où est ma"
        " commande ? », « quand commence l'offre ? », « puis-je retourner cet article ? » ou « parler au vendeur ».",
        "found": (
            "Voici {count} produit qui correspond à « {query} ».",
            "Voici {count} produits qui correspondent à « {query} ».",
        ),
        "found_under": (
            "Voici {count} produit à moins de {limit} pour « {query} ».",
            "Voici {count} produits à moins de {limit} pour « {query} ».",
        ),
        "found_range": (
            "Voici {count} produit entre {low} et {limit} pour « {query} ».",
            "Voici {count} produits entre {low} et {limit} pour « {query} ».",
        ),
        "none": "Je n'ai rien trouvé pour « {query} ». Essayez d'autres mots ou parcourez la recherche.",
        "none_under": "Aucun produit à moins de {limit} pour « {query} ». Voici les moins chers.",
        "festival_running": "{festival} est en cours jusqu'au {ends}.",
        "festival_upcoming": "{festival} commence le {starts}.",
        "no_festival": "Aucune offre n'est programmée pour le moment.",
        "deal_running": "« {title} » à {price} : en cours jusqu'au {ends}.",
        "deal_upcoming": "« {title} » à {price} : commence le {starts}.",
        "deal_ended": "« {title} » : l'offre est terminée.",
        "presale": "Prévente : acompte de {deposit} dès le {presale_starts}, solde à payer avant le {balance_due}.",
        "order_login": "Connectez-vous pour que je retrouve vos commandes.",
        "order_none": "Vous n'avez pas encore de commande.",
        "order_not_found": "Je ne trouve pas de commande n° {order} sur votre compte.",
        "order_line": "Commande n° {order} chez {merchant} ({total}) : {status}, mise à jour le {updated}.",
        "tracking": "Suivi du colis : {url}",
        "returns_merchant": "{merchant} accepte les retours sous {days} jours après la livraison.",
        "returns_none": "{merchant} n'accepte pas les retours, sauf article défectueux.",
        "returns_order": "Pour la commande n° {order} : retour possible jusqu'au {deadline}.",
        "returns_order_closed": "Pour la commande n° {order}, le délai de retour est dépassé depuis le {deadline}.",
        "returns_generic": "La plupart des vendeurs acceptent les retours sous 14 jours après la livraison."
        " Dites-moi de quel produit ou de quelle commande il s'agit.",
        "handoff_login": "Connectez-vous pour écrire au vendeur : je lui transmettrai votre message.",
        "handoff_created": "J'ai transmis votre message à {merchant}. La réponse apparaîtra ici et dans vos"
        " conversations.",
        "handoff_no_merchant": "À quel vendeur voulez-vous écrire ? Ouvrez la page du produit ou citez votre"
        " numéro de commande.",
        "refused": "Je ne peux montrer que vos propres commandes et les informations publiques du catalogue.",
        "unknown": "Je n'ai pas compris. Reformulez, ou demandez à parler au vendeur.",
        "status_pending_payment": "en attente de paiement",
        "status_paid": "payée",
        "status_accepted": "acceptée par le vendeur",
        "status_shipped": "expédiée",
        "status_delivered": "livrée",
        "status_completed": "terminée",
        "status_cancelled": "annulée",
        "status_refunded": "remboursée",
        "link_search": "Voir tous les résultats",
        "link_festival": "Le festival",
        "link_deal": "Voir l'offre",
        "link_order": "Commande n° {order}",
        "link_orders": "Mes commandes",
        "link_login": "Se connecter",
        "link_conversation": "Ma conversation",
        "link_tracking": "Suivre le colis",
    },
    "en": {
        "sent": "Message sent to the seller: their answer will show here.",
        "greeting": "Hello! I can find products, tell you when deals start, track your orders and explain returns.",
        "help": 'Ask me for instance: "floral perfume under €60", "where is my order?", "when does the deal start?",'
        ' "can I return this?" or "talk to the seller".',
        "found": ('Here is {count} product matching "{query}".', 'Here are {count} products matching "{query}".'),
        "found_under": (
            'Here is {count} product under {limit} for "{query}".',
            'Here are {count} products under {limit} for "{query}".',
        ),
        "found_range": (
            'Here is {count} product between {low} and {limit} for "{query}".',
            'Here are {count} products between {low} and {limit} for "{query}".',
        ),
        "none": 'I found nothing for "{query}". Try other words or browse the search.',
        "none_under": 'Nothing under {limit} for "{query}". Here are the cheapest.',
        "festival_running": "{festival} is on until {ends}.",
        "festival_upcoming": "{festival} starts on {starts}.",
        "no_festival": "No deal is scheduled right now.",
        "deal_running": '"{title}" at {price}: on until {ends}.',
        "deal_upcoming": '"{title}" at {price}: starts on {starts}.',
        "deal_ended": '"{title}": this deal has ended.',
        "presale": "Presale: {deposit} deposit from {presale_starts}, balance due by {balance_due}.",
        "order_login": "Log in so I can find your orders.",
        "order_none": "You have no orders yet.",
        "order_not_found": "I cannot find an order #{order} on your account.",
        "order_line": "Order #{order} from {merchant} ({total}): {status}, updated {updated}.",
        "tracking": "Parcel tracking: {url}",
        "returns_merchant": "{merchant} accepts returns within {days} days of delivery.",
        "returns_none": "{merchant} does not accept returns, except for faulty items.",
        "returns_order": "For order #{order}: you can return it until {deadline}.",
        "returns_order_closed": "For order #{order}, the return window closed on {deadline}.",
        "returns_generic": "Most sellers accept returns within 14 days of delivery. Tell me which product or"
        " order it is about.",
        "handoff_login": "Log in to write to the seller: I will pass your message on.",
        "handoff_created": "I passed your message on to {merchant}. Their answer will show here and in your"
        " conversations.",
        "handoff_no_merchant": "Which seller do you want to write to? Open the product's page or give your order"
        " number.",
        "refused": "I can only show your own orders and the catalog's public information.",
        "unknown": "I did not understand. Rephrase it, or ask to talk to the seller.",
        "status_pending_payment": "awaiting payment",
        "status_paid": "paid",
        "status_accepted": "accepted by the seller",
        "status_shipped": "shipped",
        "status_delivered": "delivered",
        "status_completed": "completed",
        "status_cancelled": "cancelled",
        "status_refunded": "refunded",
        "link_search": "See all results",
        "link_festival": "The festival",
        "link_deal": "See the deal",
        "link_order": "Order #{order}",
        "link_orders": "My orders",
        "link_login": "Log in",
        "link_conversation": "My conversation",
        "link_tracking": "Track the parcel",
    },
    "es": {
        "sent": "Mensaje enviado al vendedor: su respuesta aparecerá aquí.",
        "greeting": "¡Hola! Puedo buscar productos, decirte cuándo empiezan las ofertas, seguir tus pedidos y"
        " explicarte las devoluciones.",
        "help": "Pregúntame por ejemplo: «busco un perfume floral por menos de 60 €», «¿dónde está mi pedido?»,"
        " «¿cuándo empieza la oferta?», «¿puedo devolver esto?» o «hablar con el vendedor».",
        "found": ("Aquí tienes {count} producto para «{query}».", "Aquí tienes {count} productos para «{query}»."),
        "found_under": (
            "Aquí tienes {count} producto por menos de {limit} para «{query}».",
            "Aquí tienes {count} productos por menos de {limit} para «{query}».",
        ),
        "found_range": (
            "Aquí tienes {count} producto entre {low} y {limit} para «{query}».",
            "Aquí tienes {count} productos entre {low} y {limit} para «{query}».",
        ),
        "none": "No he encontrado nada para «{query}». Prueba con otras palabras o usa la búsqueda.",
        "none_under": "Nada por menos de {limit} para «{query}». Estos son los más baratos.",
        "festival_running": "{festival} está en curso hasta el {ends}.",
        "festival_upcoming": "{festival} empieza el {starts}.",
        "no_festival": "No hay ninguna oferta programada por ahora.",
        "deal_running": "«{title}» a {price}: en curso hasta el {ends}.",
        "deal_upcoming": "«{title}» a {price}: empieza el {starts}.",
        "deal_ended": "«{title}»: la oferta ha terminado.",
        "presale": "Preventa: señal de {deposit} desde el {presale_starts}, resto a pagar antes del {balance_due}.",
        "order_login": "Inicia sesión para que encuentre tus pedidos.",
        "order_none": "Todavía no tienes pedidos.",
        "order_not_found": "No encuentro ningún pedido n.º {order} en tu cuenta.",
        "order_line": "Pedido n.º {order} de {merchant} ({total}): {status}, actualizado el {updated}.",
        "tracking": "Seguimiento del paquete: {url}",
        "returns_merchant": "{merchant} acepta devoluciones en los {days} días siguientes a la entrega.",
        "returns_none": "{merchant} no acepta devoluciones, salvo artículos defectuosos.",
        "returns_order": "Para el pedido n.º {order}: puedes devolverlo hasta el {deadline}.",
        "returns_order_closed": "Para el pedido n.º {order}, el plazo de devolución terminó el {deadline}.",
        "returns_generic": "La mayoría de los vendedores aceptan devoluciones en los 14 días siguientes a la"
        " entrega. Dime de qué producto o pedido se trata.",
        "handoff_login": "Inicia sesión para escribir al vendedor: le pasaré tu mensaje.",
        "handoff_created": "He pasado tu mensaje a {merchant}. Su respuesta aparecerá aquí y en tus conversaciones.",
        "handoff_no_merchant": "¿A qué vendedor quieres escribir? Abre la página del producto o indica tu número"
        " de pedido.",
        "refused": "Solo puedo mostrar tus propios pedidos y la información pública del catálogo.",
        "unknown": "No lo he entendido. Reformúlalo o pide hablar con el vendedor.",
        "status_pending_payment": "pendiente de pago",
        "status_paid": "pagado",
        "status_accepted": "aceptado por el vendedor",
        "status_shipped": "enviado",
        "status_delivered": "entregado",
        "status_completed": "completado",
        "status_cancelled": "cancelado",
        "status_refunded": "reembolsado",
        "link_search": "Ver todos los resultados",
        "link_festival": "El festival",
        "link_deal": "Ver la oferta",
        "link_order": "Pedido n.º {order}",
        "link_orders": "Mis pedidos",
        "link_login": "Iniciar sesión",
        "link_conversation": "Mi conversación",
        "link_tracking": "Seguir el paquete",
    },
    "de": {
        "sent": "Nachricht an den Verkäufer gesendet: Die Antwort erscheint hier.",
        "greeting": "Hallo! Ich finde Produkte, sage Ihnen, wann Angebote beginnen, verfolge Ihre Bestellungen"
        " und erkläre Rückgaben.",
        "help": "Fragen Sie zum Beispiel: „blumiger Duft unter 60 €“, „wo ist meine Bestellung?“, „wann beginnt"
        " das Angebot?“, „kann ich das zurückgeben?“ oder „mit dem Verkäufer sprechen“.",
        "found": ("Hier ist {count} Produkt zu „{query}“.", "Hier sind {count} Produkte zu „{query}“."),
        "found_under": (
            "Hier ist {count} Produkt unter {limit} zu „{query}“.",
            "Hier sind {count} Produkte unter {limit} zu „{query}“.",
        ),
        "found_range": (
            "Hier ist {count} Produkt zwischen {low} und {limit} zu „{query}“.",
            "Hier sind {count} Produkte zwischen {low} und {limit} zu „{query}“.",
        ),
        "none": "Zu „{query}“ habe ich nichts gefunden. Versuchen Sie andere Wörter oder die Suche.",
        "none_under": "Nichts unter {limit} zu „{query}“. Hier sind die günstigsten.",
        "festival_running": "{festival} läuft bis {ends}.",
        "festival_upcoming": "{festival} beginnt am {starts}.",
        "no_festival": "Derzeit ist kein Angebot geplant.",
        "deal_running": "„{title}“ für {price}: läuft bis {ends}.",
        "deal_upcoming": "„{title}“ für {price}: beginnt am {starts}.",
        "deal_ended": "„{title}“: Das Angebot ist beendet.",
        "presale": "Vorverkauf: Anzahlung {deposit} ab {presale_starts}, Restbetrag fällig bis {balance_due}.",
        "order_login": "Melden Sie sich an, damit ich Ihre Bestellungen finde.",
        "order_none": "Sie haben noch keine Bestellung.",
        "order_not_found": "Ich finde keine Bestellung Nr. {order} in Ihrem Konto.",
        "order_line": "Bestellung Nr. {order} bei {merchant} ({total}): {status}, aktualisiert am {updated}.",
        "tracking": "Sendungsverfolgung: {url}",
        "returns_merchant": "{merchant} nimmt Rückgaben innerhalb von {days} Tagen nach Lieferung an.",
        "returns_none": "{merchant} nimmt keine Rückgaben an, außer bei defekten Artikeln.",
        "returns_order": "Bestellung Nr. {order}: Rückgabe möglich bis {deadline}.",
        "returns_order_closed": "Bestellung Nr. {order}: Die Rückgabefrist endete am {deadline}.",
        "returns_generic": "Die meisten Verkäufer nehmen Rückgaben innerhalb von 14 Tagen nach Lieferung an."
        " Um welches Produkt oder welche Bestellung geht es?",
        "handoff_login": "Melden Sie sich an, um dem Verkäufer zu schreiben: Ich leite Ihre Nachricht weiter.",
        "handoff_created": "Ich habe Ihre Nachricht an {merchant} weitergeleitet. Die Antwort erscheint hier und"
        " in Ihren Unterhaltungen.",
        "handoff_no_merchant": "Welchem Verkäufer möchten Sie schreiben? Öffnen Sie die Produktseite oder nennen"
        " Sie Ihre Bestellnummer.",
        "refused": "Ich kann nur Ihre eigenen Bestellungen und öffentliche Katalogdaten zeigen.",
        "unknown": "Das habe ich nicht verstanden. Formulieren Sie es anders oder fragen Sie nach dem Verkäufer.",
        "status_pending_payment": "wartet auf Zahlung",
        "status_paid": "bezahlt",
        "status_accepted": "vom Verkäufer angenommen",
        "status_shipped": "versandt",
        "status_delivered": "zugestellt",
        "status_completed": "abgeschlossen",
        "status_cancelled": "storniert",
        "status_refunded": "erstattet",
        "link_search": "Alle Ergebnisse",
        "link_festival": "Das Festival",
        "link_deal": "Zum Angebot",
        "link_order": "Bestellung Nr. {order}",
        "link_orders": "Meine Bestellungen",
        "link_login": "Anmelden",
        "link_conversation": "Meine Unterhaltung",
        "link_tracking": "Sendung verfolgen",
    },
    "it": {
        "sent": "Messaggio inviato al venditore: la risposta apparirà qui.",
        "greeting": "Ciao! Posso cercare prodotti, dirti quando iniziano le offerte, seguire i tuoi ordini e"
        " spiegarti i resi.",
        "help": "Chiedimi ad esempio: «profumo floreale sotto i 60 €», «dov'è il mio ordine?», «quando inizia"
        " l'offerta?», «posso restituirlo?» o «parlare con il venditore».",
        "found": ("Ecco {count} prodotto per «{query}».", "Ecco {count} prodotti per «{query}»."),
        "found_under": (
            "Ecco {count} prodotto sotto {limit} per «{query}».",
            "Ecco {count} prodotti sotto {limit} per «{query}».",
        ),
        "found_range": (
            "Ecco {count} prodotto tra {low} e {limit} per «{query}».",
            "Ecco {count} prodotti tra {low} e {limit} per «{query}».",
        ),
        "none": "Non ho trovato nulla per «{query}». Prova altre parole o usa la ricerca.",
        "none_under": "Niente sotto {limit} per «{query}». Ecco i più economici.",
        "festival_running": "{festival} è in corso fino al {ends}.",
        "festival_upcoming": "{festival} inizia il {starts}.",
        "no_festival": "Nessuna offerta è in programma al momento.",
        "deal_running": "«{title}» a {price}: in corso fino al {ends}.",
        "deal_upcoming": "«{title}» a {price}: inizia il {starts}.",
        "deal_ended": "«{title}»: l'offerta è terminata.",
        "presale": "Prevendita: acconto di {deposit} dal {presale_starts}, saldo entro il {balance_due}.",
        "order_login": "Accedi perché io possa trovare i tuoi ordini.",
        "order_none": "Non hai ancora ordini.",
        "order_not_found": "Non trovo un ordine n. {order} nel tuo account.",
        "order_line": "Ordine n. {order} da {merchant} ({total}): {status}, aggiornato il {updated}.",
        "tracking": "Tracciamento del pacco: {url}",
        "returns_merchant": "{merchant} accetta resi entro {days} giorni dalla consegna.",
        "returns_none": "{merchant} non accetta resi, salvo articoli difettosi.",
        "returns_order": "Per l'ordine n. {order}: puoi restituirlo fino al {deadline}.",
        "returns_order_closed": "Per l'ordine n. {order}, il periodo di reso è terminato il {deadline}.",
        "returns_generic": "La maggior parte dei venditori accetta resi entro 14 giorni dalla consegna. Dimmi di"
        " quale prodotto o ordine si tratta.",
        "handoff_login": "Accedi per scrivere al venditore: gli inoltrerò il tuo messaggio.",
        "handoff_created": "Ho inoltrato il tuo messaggio a {merchant}. La risposta apparirà qui e nelle tue"
        " conversazioni.",
        "handoff_no_merchant": "A quale venditore vuoi scrivere? Apri la pagina del prodotto o indica il numero"
        " d'ordine.",
        "refused": "Posso mostrare solo i tuoi ordini e le informazioni pubbliche del catalogo.",
        "unknown": "Non ho capito. Riformula, oppure chiedi di parlare con il venditore.",
        "status_pending_payment": "in attesa di pagamento",
        "status_paid": "pagato",
        "status_accepted": "accettato dal venditore",
        "status_shipped": "spedito",
        "status_delivered": "consegnato",
        "status_completed": "completato",
        "status_cancelled": "annullato",
        "status_refunded": "rimborsato",
        "link_search": "Tutti i risultati",
        "link_festival": "Il festival",
        "link_deal": "Vedi l'offerta",
        "link_order": "Ordine n. {order}",
        "link_orders": "I miei ordini",
        "link_login": "Accedi",
        "link_conversation": "La mia conversazione",
        "link_tracking": "Traccia il pacco",
    },
}


@cache
def plural_index(language: str) -> Callable[[int], int]:
    return gettext.c2py(PLURAL_FORMS[language])


def say(language: str, key: str, **values: object) -> str:
    if language not in TEMPLATES:
        language = "en"
    message = TEMPLATES[language][key]
    if isinstance(message, tuple):
        count = values["count"]  # every plural message is chosen by its `count`
        assert isinstance(count, int), key
        message = message[min(plural_index(language)(count), len(message) - 1)]
    return message.format(**values) if values else message
