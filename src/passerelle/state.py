"""Typed application state: everything the lifespan chose once at start-up."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import httpx

from passerelle.accounts import passwords
from passerelle.accounts.token_users import ApiTokenUsers
from passerelle.config import Settings
from passerelle.connect.runtime import ConnectRuntime
from passerelle.db.engine import Database
from passerelle.i18n.fx import load_table
from passerelle.infra.clock import Clock, SystemClock
from passerelle.infra.outbox_wake import WakeSender
from passerelle.infra.ratelimit import MemoryTokenBucket, RateLimiter
from passerelle.infra.storage import BlobStorage, LocalDiskStorage
from passerelle.money import FxTable
from passerelle.notifications.mail import MailSender, make_mailer
from passerelle.payments.providers.base import PaymentProvider
from passerelle.payments.providers.sandbox import SandboxProvider

if TYPE_CHECKING:
    from passerelle.festival.engine.engine import DealEngine
    from passerelle.festival.token_cache import TokenCache
    from passerelle.infra.outbox import OutboxRunner
    from passerelle.live.runtime import LiveRuntime

FX_CACHE_SECONDS = 60.0


@dataclass
class AppState:
    settings: Settings
    db: Database
    storage: BlobStorage
    mailer: MailSender
    payment_providers: dict[str, PaymentProvider]
    clock: Clock = field(default_factory=SystemClock)
    outbox_runner: OutboxRunner | None = None
    # With the outbox in `passerelle worker` processes: how the server nudges them (infra/outbox_wake.py).
    outbox_wake: WakeSender | None = None
    # Set in `passerelle worker`: grouped paid webhooks read before their write transaction
    # (payments/settlement.py). That shortens what the server's requests wait for; inside the
    # server the same thread does the reads either way, and inline they cost less.
    settle_reads_first: bool = False
    engine: DealEngine | None = None
    live: LiveRuntime | None = None  # rooms' event hub and chat (live/runtime.py)
    token_cache: TokenCache = field(init=False)
    api_token_users: ApiTokenUsers = field(default_factory=ApiTokenUsers)
    claim_ip_limiter: RateLimiter = field(init=False)
    claim_account_limiter: RateLimiter = field(init=False)
    connect: ConnectRuntime = field(init=False)
    # Set by create_app: how the sandbox PSP reaches our webhook endpoint.
    webhook_transport: httpx.AsyncBaseTransport | None = None
    login_limiter: RateLimiter = field(default_factory=lambda: MemoryTokenBucket(rate=10 / 60, burst=10))
    register_limiter: RateLimiter = field(default_factory=lambda: MemoryTokenBucket(rate=5 / 60, burst=5))
    _fx: FxTable | None = None
    _fx_loaded_at: float = 0.0

    def __post_init__(self) -> None:
        from passerelle.festival.token_cache import TokenCache

        self.token_cache = TokenCache(self.db)
        rate = self.settings.claims_per_ip_per_second
        self.claim_ip_limiter = MemoryTokenBucket(rate=rate, burst=rate * 2)
        per_account = self.settings.claims_per_account_per_second
        self.claim_account_limiter = MemoryTokenBucket(rate=per_account, burst=per_account * 2)
        self.connect = ConnectRuntime.create(self.db, self.settings, users=self.token_cache)

    @classmethod
    def from_settings(cls, settings: Settings) -> AppState:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        passwords.configure(time_cost=settings.argon2_time_cost, memory_kib=settings.argon2_memory_kib)
        return cls(
            settings=settings,
            db=Database(settings.resolved_database_url, group_commit=settings.group_commit),
            storage=LocalDiskStorage(settings.media_dir),
            mailer=make_mailer(
                smtp_url=settings.smtp_url, mail_dir=settings.data_dir / "mail", smtp_ca_file=settings.smtp_ca_file
            ),
            payment_providers={"sandbox": SandboxProvider(webhook_secret=settings.resolved_sandbox_secret)},
            login_limiter=MemoryTokenBucket(
                rate=settings.login_attempts_per_minute / 60, burst=settings.login_attempts_per_minute
            ),
        )

    async def fx(self) -> FxTable:
        """Rates cached for a minute: display conversion must not cost a query per item."""
        if self._fx is None or time.monotonic() - self._fx_loaded_at > FX_CACHE_SECONDS:
            async with self.db.read_sessions() as session:
                self._fx = await load_table(session, base=self.settings.base_currency)
            self._fx_loaded_at = time.monotonic()
        return self._fx

    def invalidate_fx(self) -> None:
        self._fx = None

    def webhook_client(self) -> httpx.AsyncClient:
        """A client to this server: over HTTP to `public_url` when set, else in-process (ASGI)."""
        if self.settings.public_url:
            return httpx.AsyncClient(base_url=self.settings.public_url, timeout=10)
        if self.webhook_transport is None:
            raise RuntimeError("no route to the webhook endpoint: set PASSERELLE_PUBLIC_URL")
        return httpx.AsyncClient(transport=self.webhook_transport, base_url="http://passerelle.internal", timeout=10)

    def wake_worker(self, topics: Iterable[str] | None = None) -> None:
        """After a commit that queued outbox messages (of `topics`, when known): their
        consumers look at once."""
        if self.outbox_runner is not None and self.outbox_runner.takes_any(topics):
            self.outbox_runner.wake()
        if self.outbox_wake is not None:
            self.outbox_wake.send_soon()
