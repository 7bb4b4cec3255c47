"""Which outbox topic goes to which consumers (several: each gets its own copy of the message,
retried on its own; see OutboxRunner)."""

from __future__ import annotations

from passerelle.auctions import tasks as auction_tasks
from passerelle.cart import tasks as cart_tasks
from passerelle.connect import tasks as connect_tasks
from passerelle.festival import tasks as festival_tasks
from passerelle.infra.outbox import Grouped, Handlers
from passerelle.logistics import tasks as logistics_tasks
from passerelle.notifications import tasks as mail_tasks
from passerelle.offers import tasks as offer_tasks
from passerelle.orders import tasks as order_tasks
from passerelle.payments import tasks as payment_tasks
from passerelle.quotes import tasks as quote_tasks

HANDLERS: Handlers = {
    "orders.expire_due": order_tasks.expire_due_orders,
    "cart.restore": cart_tasks.restore_cart,
    # First: an order is paid before the mails and commissions of the orders paid before it
    # go out (bench checkout: the last order paid 0.2-0.4 s after the last payment instead of
    # 0.7-1.1 s behind a backlog of mails).
    "payments.sandbox.deliver": Grouped(payment_tasks.deliver_sandbox_webhooks, first=True),
    # Grouped: one read for a group of paid orders (most need no write at all).
    "orders.paid": (Grouped(mail_tasks.on_paid_many), Grouped(connect_tasks.on_orders_paid)),
    "orders.status_changed": (mail_tasks.on_status_changed, connect_tasks.on_status_changed),
    "orders.refunded": (mail_tasks.on_refunded, connect_tasks.on_order_refunded),
    "orders.unfulfillable": mail_tasks.on_unfulfillable,
    "quotes.expire_due": quote_tasks.expire_due_quotes,
    "offers.expire_due": offer_tasks.expire_due_offers,
    "deals.confirm": festival_tasks.confirm_paid_deal,
    "deals.release": festival_tasks.release_deal_hold,
    "deals.close": festival_tasks.close_ended_deal,
    "presale.paid": festival_tasks.presale_order_paid,
    "presale.dropped": festival_tasks.presale_order_dropped,
    "presale.forfeit": festival_tasks.forfeit_unpaid_balances,
    "auctions.close": auction_tasks.close_auction,
    "auctions.paid": auction_tasks.auction_order_paid,
    "auctions.order_dropped": auction_tasks.auction_order_dropped,
    "auctions.unpaid": auction_tasks.expire_unpaid_auction,
    "logistics.carrier.deliver": logistics_tasks.deliver_carrier_event,
    "logistics.ship_batch": logistics_tasks.ship_batch,
    "connect.approve_due": connect_tasks.approve_due,
    "connect.monthly_payouts": connect_tasks.monthly_payouts,
}

# What needs the festival engine, which lives in the server process (one per journal): with
# `PASSERELLE_OUTBOX_PROCESS=true` the server consumes these and `passerelle worker` the rest.
ENGINE_TOPICS = frozenset({"deals.confirm", "deals.release", "deals.close"})
SERVER_HANDLERS: Handlers = {topic: HANDLERS[topic] for topic in ENGINE_TOPICS}
# `passerelle worker` settles the PSP's webhooks in larger groups: each group is one write
# transaction, which the server's requests wait for on SQLite; fewer, larger ones hold the
# writer less in all (~40 % less at 256 than at 16, bench checkout with the worker).
WORKER_WEBHOOK_GROUP = 256
WORKER_HANDLERS: Handlers = {
    **{topic: handler for topic, handler in HANDLERS.items() if topic not in ENGINE_TOPICS},
    "payments.sandbox.deliver": Grouped(payment_tasks.deliver_sandbox_webhooks, size=WORKER_WEBHOOK_GROUP, first=True),
}
