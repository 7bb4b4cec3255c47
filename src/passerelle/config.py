"""Settings read once at start-up from PASSERELLE_* environment variables."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from functools import cached_property
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

SUPPORTED_LANGUAGES: tuple[str, ...] = ("fr", "en", "es", "de", "it", "zh", "ru")
UI_LANGUAGES: tuple[str, ...] = ("fr", "en")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PASSERELLE_", extra="ignore")

    data_dir: Path = Field(default=Path("var"), description="Where the embedded database, media and mail live.")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy async URL; default: SQLite file in data_dir."
    )
    redis_url: str | None = None
    group_commit: bool = Field(
        default=True,
        description=(
            "SQLite only: concurrent cart adds, checkouts and payments share one write transaction "
            "and one COMMIT (a savepoint each): the event loop works while the group's fsync runs. "
            "On by default since the buying path's statements got cheap (docs/performance.md)."
        ),
    )
    secret_key: str | None = Field(default=None, description="Signs tokens; generated into data_dir when unset.")
    base_currency: str = "EUR"
    default_language: str = "fr"
    default_country: str = "FR"
    session_days: int = 14
    api_token_days: int = 30
    cookie_secure: bool = False
    max_upload_bytes: int = 5 * 1024 * 1024
    reservation_ttl_seconds: int = Field(default=15 * 60, description="How long checkout holds stock unpaid.")
    public_url: str | None = Field(default=None, description="Where webhooks reach this server; in-process when unset.")
    smtp_url: str | None = Field(
        default=None, description="smtp://user:pw@host:port; .eml files in data_dir/mail when unset."
    )
    smtp_ca_file: Path | None = Field(
        default=None, description="PEM file of the authorities the SMTP server's certificate is checked against."
    )
    sandbox_webhook_secret: str | None = None
    run_worker: bool = Field(default=True, description="Run the outbox consumer inside the server process.")
    outbox_process: bool = Field(
        default=False,
        description="`passerelle worker` processes consume the outbox; the server keeps only what needs its "
        "festival engine (a second core for the paid-order work).",
    )
    claim_queue_limit: int = Field(default=50_000, description="Claims waiting for a batch before 429 busy.")
    connect_clicks_per_ip_per_second: float = Field(
        default=2.0, description="Tracked-link clicks counted per address (more are redirected, not counted)."
    )
    connect_click_burst: float = Field(default=30.0, description="Burst of counted clicks per address.")
    connect_return_window_days: int = Field(
        default=14, description="Days after delivery before a creator commission is approved."
    )
    connect_payout_day: int = Field(
        default=1, ge=1, le=28, description="Day of the month the creator payout batches run by themselves."
    )
    connect_payout_threshold: int = Field(
        default=5000, ge=1, description="Creators owed at least this (minor units) are paid, monthly or on request."
    )
    operator_time_zone: str = Field(
        default="Europe/Paris", description="The operator's time zone (when the monthly payouts run)."
    )
    connect_debtor_name: str = Field(default="Passerelle", description="Payer name on creator SEPA payouts.")
    connect_debtor_iban: str = Field(
        default="FR7630006000011234567890189", description="Account creators are paid from."
    )
    connect_debtor_bic: str = Field(default="AGRIFRPP", description="BIC of that account.")
    connect_edge: bool = Field(
        default=False, description="Ingest the click log of the nginx edge for tracked links (`passerelle edge`)."
    )
    connect_edge_log: Path | None = Field(
        default=None, description="The edge's click log; default data_dir/edge/clicks.log (edge and server agree)."
    )
    connect_edge_port: int = Field(default=8080, description="HTTP port of `passerelle edge`.")
    connect_edge_link_seconds: int = Field(
        default=60, description="How long the edge keeps a link's target before asking the server again."
    )
    claims_per_ip_per_second: float = Field(
        default=1000.0, description="Per-address claim rate (behind a proxy, the forwarded address)."
    )
    claims_per_account_per_second: float = 20.0
    max_open_reservations: int = Field(
        default=5, description="Unpaid deal holds one account may keep at once (0: no cap)."
    )
    gateway_token: str | None = Field(
        default=None, description="Bearer token of trusted edge gateways for POST /claims:batch."
    )
    login_attempts_per_minute: int = 10
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 64 * 1024
    # Live captions and translation (passerelle.captions): local engines only, nothing downloads at run time.
    captions: bool = Field(default=False, description="Load the caption engines at start-up (live rooms' captions).")
    asr_engine: str = Field(default="faster-whisper", description="faster-whisper, pocketsphinx or none.")
    asr_model_dir: Path | None = Field(default=None, description="A CTranslate2 Whisper model directory.")
    asr_threads: int = 2
    mt_engines: str = Field(
        default="ctranslate2,libretranslate,apertium", description="Translation engines, preferred first."
    )
    mt_model_dir: Path | None = Field(default=None, description="CTranslate2 OPUS-MT models, one <src>-<tgt>/ each.")
    mt_pivot_languages: str = Field(default="es,en", description="Pivots when no engine has a pair directly.")
    libretranslate_url: str | None = None
    libretranslate_api_key: str | None = None
    media_rtmp_port: int = Field(default=1935, description="RTMP port of `passerelle media` (hosts push here).")
    media_http_port: int = Field(default=8081, description="HTTP port of `passerelle media` (HLS and control).")
    media_rtmp_url: str | None = Field(
        default=None, description="RTMP URL shown to hosts; default rtmp://<this host>:<media_rtmp_port>/live."
    )
    media_hls_url: str = Field(default="/live/hls", description="Base URL the room pages load HLS from.")
    media_callback_secret: str | None = Field(default=None, description="Guards nginx's callbacks; derived when unset.")
    media_record: bool = Field(default=False, description="Record every stream (FLV) under data_dir/live/recordings.")

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'passerelle.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    @property
    def resolved_edge_log(self) -> Path:
        return (self.connect_edge_log or self.data_dir / "edge" / "clicks.log").resolve()

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    @cached_property
    def resolved_secret_key(self) -> str:
        """The configured key, or one generated once and kept in data_dir so restarts keep sessions."""
        if self.secret_key:
            return self.secret_key
        self.data_dir.mkdir(parents=True, exist_ok=True)
        path = self.data_dir / "secret_key"
        if not path.exists():
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()

    @cached_property
    def resolved_media_secret(self) -> str:
        if self.media_callback_secret:
            return self.media_callback_secret
        return hmac.new(self.resolved_secret_key.encode(), b"live-media", hashlib.sha256).hexdigest()

    @cached_property
    def resolved_sandbox_secret(self) -> str:
        if self.sandbox_webhook_secret:
            return self.sandbox_webhook_secret
        return hmac.new(self.resolved_secret_key.encode(), b"sandbox-webhooks", hashlib.sha256).hexdigest()


def load_settings() -> Settings:
    return Settings()
