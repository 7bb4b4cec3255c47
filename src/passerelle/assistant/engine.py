"""The built-in engine: from a parsed question and the facts it may see, an answer.

Pure: no I/O, no clock (`now` is given), so a question costs microseconds and the rules
are testable without a server. The asker's orders arrive already filtered on the asker.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from passerelle.assistant.facts import DEFAULT_RETURN_DAYS, DealFact, OrderFact, PublicFacts
from passerelle.assistant.index import CatalogIndex
from passerelle.assistant.intents import Intent, Parsed
from passerelle.assistant.lexicon import is_stopword, stems
from passerelle.assistant.templates import say
from passerelle.money import FxTable, Money

MAX_CARDS = 4
MAX_ORDERS_SHOWN = 3
MAX_DEALS_SHOWN = 3
# A hit far below the best one is noise, not a second choice.
RELATIVE_SCORE = 0.45
# BM25 score from which a question is taken to name a product (one rare word scores ~5).
NAMES_A_PRODUCT = 4.0
_WORD = re.compile(r"[\w'-]+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Question:
    text: str
    language: str
    currency: str
    product_id: int | None = None  # the product page the widget is on
    signed_in: bool = False


@dataclass(frozen=True, slots=True)
class Handoff:
    merchant_id: int
    product_id: int | None = None
    order_id: int | None = None


@dataclass
class Answer:
    intent: Intent
    language: str
    reply: str
    product_ids: list[int] = field(default_factory=list)
    links: list[dict[str, str]] = field(default_factory=list)
    handoff: Handoff | None = None
    personal: bool = False  # built from the asker's own data: never cached nor shared


@dataclass(frozen=True, slots=True)
class Context:
    index: CatalogIndex
    fx: FxTable
    facts: PublicFacts
    now: datetime
    orders: list[OrderFact] | None = None  # None: not signed in (or not needed)


Handler = Callable[[Parsed, Question, Context], Answer]


def answer(parsed: Parsed, question: Question, ctx: Context) -> Answer:
    handler = _HANDLERS[parsed.intent]
    return handler(parsed, question, ctx)


def _when(moment: datetime, ctx: Context, language: str) -> str:
    return _formatted_time(moment, ctx.facts.festival.time_zone if ctx.facts.festival else "UTC", language)


@lru_cache(maxsize=16_384)
def _formatted_time(moment: datetime, zone: str, language: str) -> str:
    """Babel's date formatting is slow and the same deal and order times come back all day."""
    return str(format_datetime(moment, "d MMM y HH:mm", tzinfo=ZoneInfo(zone), locale=language))


def _money(money: Money, language: str) -> str:
    return _formatted(money.amount, money.currency, language)


@lru_cache(maxsize=65_536)
def _formatted(amount: int, currency: str, language: str) -> str:
    """Babel's formatting costs most of a whole answer: prices repeat, so remember them."""
    return Money(amount, currency).format(locale=language)


def _display_query(text: str, language: str) -> str:
    kept = [w for w in _WORD.findall(text) if not all(is_stopword(t, language) for t in stems(w, language))]
    return " ".join(kept)[:80]


def _hits(parsed: Parsed, question: Question, ctx: Context, *, priced: bool = False) -> list[int]:
    """Products the words name, best first. With `priced`, the price bounds filter first, so
    the floor is relative to the best product the buyer can afford."""
    return _above_floor(ctx.index.search(parsed.search_text, question.language, limit=200), parsed, ctx, priced)


def _above_floor(
    ranked: list[tuple[int, float]], parsed: Parsed, ctx: Context, priced: bool, limit: int = 50
) -> list[int]:
    bounds = parsed.prices
    prices = ctx.index.prices(bounds.currency, ctx.fx) if priced else {}
    low = bounds.min_amount if bounds.min_amount is not None else -1
    high = bounds.max_amount if bounds.max_amount is not None else 1 << 62
    kept: list[int] = []
    floor = 0.0
    for pid, score in ranked:  # best first: stop at the floor or the limit
        if priced and not low <= prices.get(pid, 0) <= high:
            continue
        if not kept:
            floor = score * RELATIVE_SCORE
        elif score < floor or len(kept) >= limit:
            break
        kept.append(pid)
    return kept


def _within(pid: int, parsed: Parsed, ctx: Context) -> bool:
    bounds = parsed.prices
    price = ctx.index.price_in(pid, bounds.currency, ctx.fx)
    if bounds.max_amount is not None and price > bounds.max_amount:
        return False
    return bounds.min_amount is None or price >= bounds.min_amount


def _search_link(query: str, parsed: Parsed, language: str) -> dict[str, str]:
    params = {"q": query}
    bounds = parsed.prices
    if bounds.max_amount is not None:
        params["max_price"] = str(Money(bounds.max_amount, bounds.currency).to_major())
    if bounds.min_amount is not None:
        params["min_price"] = str(Money(bounds.min_amount, bounds.currency).to_major())
    return {"label": say(language, "link_search"), "url": "/search?" + urlencode(params)}


def _products(parsed: Parsed, question: Question, ctx: Context) -> Answer:
    lang = question.language
    ranked = ctx.index.search(parsed.search_text, question.language, limit=200)
    hits = _above_floor(ranked, parsed, ctx, False)
    query = _display_query(parsed.search_text, lang)
    if not hits and not parsed.prices.bounded:
        if parsed.shopping_words:
            return Answer(Intent.product_search, lang, say(lang, "none", query=query))
        return _unknown(parsed, question, ctx)
    bounds = parsed.prices
    if not hits:  # only a price: "something under 30 €"
        hits = sorted(ctx.index.entries, key=lambda pid: -ctx.index.price_in(pid, bounds.currency, ctx.fx))
        chosen = [pid for pid in hits if _within(pid, parsed, ctx)][:MAX_CARDS]
    else:
        chosen = _above_floor(ranked, parsed, ctx, True, MAX_CARDS) if bounds.bounded else hits[:MAX_CARDS]
    links = [_search_link(query, parsed, lang)]
    if bounds.max_amount is not None:
        limit = _money(Money(bounds.max_amount, bounds.currency), lang)
        if not chosen:
            cheapest = sorted(hits, key=lambda pid: ctx.index.price_in(pid, bounds.currency, ctx.fx))[:MAX_CARDS]
            return Answer(
                Intent.product_search, lang, say(lang, "none_under", limit=limit, query=query), cheapest, links
            )
        if bounds.min_amount is not None:
            low = _money(Money(bounds.min_amount, bounds.currency), lang)
            reply = say(lang, "found_range", count=len(chosen), low=low, limit=limit, query=query)
        else:
            reply = say(lang, "found_under", count=len(chosen), limit=limit, query=query)
        return Answer(Intent.product_search, lang, reply, chosen, links)
    if not chosen:
        return Answer(Intent.product_search, lang, say(lang, "none", query=query), [], links)
    return Answer(Intent.product_search, lang, say(lang, "found", count=len(chosen), query=query), chosen, links)


def _deal_lines(deal: DealFact, ctx: Context, lang: str, currency: str) -> list[str]:
    entry = ctx.index.entries.get(deal.product_id)
    title = entry.titles.get(lang, "") if entry else f"#{deal.id}"
    price = _money(ctx.fx.convert(deal.price, currency) if ctx.fx.knows(currency) else deal.price, lang)
    if ctx.now >= deal.ends_at:
        lines = [say(lang, "deal_ended", title=title)]
    elif ctx.now >= deal.starts_at:
        lines = [say(lang, "deal_running", title=title, price=price, ends=_when(deal.ends_at, ctx, lang))]
    else:
        lines = [say(lang, "deal_upcoming", title=title, price=price, starts=_when(deal.starts_at, ctx, lang))]
    if deal.deposit is not None and deal.presale_starts_at and deal.balance_due_at and ctx.now < deal.balance_due_at:
        lines.append(
            say(
                lang,
                "presale",
                deposit=_money(
                    ctx.fx.convert(deal.deposit, currency) if ctx.fx.knows(currency) else deal.deposit, lang
                ),
                presale_starts=_when(deal.presale_starts_at, ctx, lang),
                balance_due=_when(deal.balance_due_at, ctx, lang),
            )
        )
    return lines


def _deals(parsed: Parsed, question: Question, ctx: Context) -> Answer:
    lang = question.language
    festival = ctx.facts.festival
    if festival is None:
        return Answer(Intent.deal_times, lang, say(lang, "no_festival"))
    if ctx.now >= festival.starts_at:
        lines = [say(lang, "festival_running", festival=festival.name, ends=_when(festival.ends_at, ctx, lang))]
    else:
        lines = [say(lang, "festival_upcoming", festival=festival.name, starts=_when(festival.starts_at, ctx, lang))]
    live = [d for d in ctx.facts.deals if d.ends_at > ctx.now]
    wanted: list[DealFact] = []
    if question.product_id is not None:
        wanted = [d for d in live if d.product_id == question.product_id]
    if not wanted:
        hits = set(_hits(parsed, question, ctx)[:10])
        wanted = [d for d in live if d.product_id in hits]
    if not wanted:
        wanted = sorted(live, key=lambda d: (d.starts_at, d.id))
    shown = wanted[:MAX_DEALS_SHOWN]
    for deal in shown:
        lines.extend(_deal_lines(deal, ctx, lang, question.currency))
    links = [{"label": say(lang, "link_festival"), "url": "/festival"}]
    links += [{"label": say(lang, "link_deal"), "url": f"/deals/{d.id}"} for d in shown]
    products = [d.product_id for d in shown if d.product_id in ctx.index.entries]
    return Answer(Intent.deal_times, lang, " ".join(lines), products, links)


def _login_link(lang: str, target: str) -> dict[str, str]:
    return {"label": say(lang, "link_login"), "url": "/login?" + urlencode({"next": target})}


def _orders(parsed: Parsed, question: Question, ctx: Context) -> Answer:
    lang = question.language
    if not question.signed_in or ctx.orders is None:
        return Answer(Intent.order_status, lang, say(lang, "order_login"), links=[_login_link(lang, "/orders")])
    if parsed.order_id is not None and not ctx.orders:
        # Same words whether the order is someone else's or does not exist at all.
        reply = say(lang, "order_not_found", order=parsed.order_id)
        return Answer(Intent.order_status, lang, reply, links=[{"label": say(lang, "link_orders"), "url": "/orders"}])
    if not ctx.orders:
        return Answer(Intent.order_status, lang, say(lang, "order_none"), personal=True)
    lines: list[str] = []
    links: list[dict[str, str]] = []
    for order in ctx.orders[:MAX_ORDERS_SHOWN]:
        lines.append(
            say(
                lang,
                "order_line",
                order=order.id,
                merchant=order.merchant_name,
                total=_money(order.total, lang),
                status=say(lang, f"status_{order.status.value}"),
                updated=_when(order.updated_at, ctx, lang),
            )
        )
        links.append({"label": say(lang, "link_order", order=order.id), "url": f"/orders/{order.id}"})
        if order.tracking_url:
            lines.append(say(lang, "tracking", url=order.tracking_url))
            links.append({"label": say(lang, "link_tracking"), "url": order.tracking_url})
    products = list(dict.fromkeys(p for o in ctx.orders[:1] for p in o.product_ids if p in ctx.index.entries))
    return Answer(Intent.order_status, lang, " ".join(lines), products[:MAX_CARDS], links, personal=True)


def _named_order(parsed: Parsed, ctx: Context) -> OrderFact | None:
    if parsed.order_id is None or not ctx.orders:
        return None
    return next((o for o in ctx.orders if o.id == parsed.order_id), None)


def _merchant_in_question(parsed: Parsed, question: Question, ctx: Context) -> tuple[int, int | None] | None:
    """(merchant, product) the question is about: the page's product, else a product it names."""
    if question.product_id is not None and question.product_id in ctx.index.entries:
        return ctx.index.entries[question.product_id].merchant_id, question.product_id
    ranked = ctx.index.search(parsed.search_text, question.language, limit=1)
    if ranked and ranked[0][1] >= NAMES_A_PRODUCT:
        return ctx.index.entries[ranked[0][0]].merchant_id, ranked[0][0]
    return None


def _returns(parsed: Parsed, question: Question, ctx: Context) -> Answer:
    lang = question.language
    order = _named_order(parsed, ctx)
    if order is None and parsed.order_id is None and question.product_id is None and ctx.orders:
        order = next((o for o in ctx.orders if o.delivered_at is not None), None)
    about = None if order else _merchant_in_question(parsed, question, ctx)
    if order is None and about is None:
        return Answer(Intent.returns, lang, say(lang, "returns_generic"))
    merchant_id = order.merchant_id if order else about[0] if about else 0
    days = ctx.facts.return_days.get(merchant_id, DEFAULT_RETURN_DAYS)
    name = order.merchant_name if order else ctx.index.entries[about[1]].merchant_name if about and about[1] else ""
    lines = [
        say(lang, "returns_none", merchant=name)
        if days == 0
        else say(lang, "returns_merchant", merchant=name, days=days)
    ]
    links: list[dict[str, str]] = []
    products: list[int] = []
    if order is not None:
        links.append({"label": say(lang, "link_order", order=order.id), "url": f"/orders/{order.id}"})
        if order.delivered_at is not None and days > 0:
            deadline = order.delivered_at + timedelta(days=days)
            key = "returns_order" if deadline > ctx.now else "returns_order_closed"
            lines.append(say(lang, key, order=order.id, deadline=_when(deadline, ctx, lang)))
    elif about and about[1] is not None:
        products = [about[1]]
    return Answer(Intent.returns, lang, " ".join(lines), products, links, personal=order is not None)


def _handoff(parsed: Parsed, question: Question, ctx: Context) -> Answer:
    lang = question.language
    if not question.signed_in:
        return Answer(Intent.handoff, lang, say(lang, "handoff_login"), links=[_login_link(lang, "/")])
    order = _named_order(parsed, ctx)
    if order is not None:
        target = Handoff(order.merchant_id, None, order.id)
    else:
        about = _merchant_in_question(parsed, question, ctx)
        if about is None and ctx.orders:
            latest = ctx.orders[0]
            target = Handoff(latest.merchant_id, None, latest.id)
        elif about is None:
            return Answer(Intent.handoff, lang, say(lang, "handoff_no_merchant"))
        else:
            target = Handoff(about[0], about[1], None)
    # The reply names the merchant once the service has opened the conversation.
    return Answer(Intent.handoff, lang, "", handoff=target, personal=True)


def _unknown(parsed: Parsed, question: Question, ctx: Context) -> Answer:
    lang = question.language
    if question.signed_in and question.product_id in ctx.index.entries:
        answer_ = _handoff(parsed, question, ctx)
        answer_.intent = Intent.handoff
        return answer_
    return Answer(Intent.unknown, lang, say(lang, "unknown"))


def _fixed(key: str, intent: Intent) -> Handler:
    def handler(parsed: Parsed, question: Question, ctx: Context) -> Answer:
        return Answer(intent, question.language, say(question.language, key))

    return handler


_HANDLERS: dict[Intent, Handler] = {
    Intent.greeting: _fixed("greeting", Intent.greeting),
    Intent.help: _fixed("help", Intent.help),
    Intent.refused: _fixed("refused", Intent.refused),
    Intent.unknown: _unknown,
    Intent.product_search: _products,
    Intent.deal_times: _deals,
    Intent.order_status: _orders,
    Intent.returns: _returns,
    Intent.handoff: _handoff,
}
