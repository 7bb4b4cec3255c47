"""The assistant's settings, read once from PASSERELLE_ASSISTANT_* variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class AssistantSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PASSERELLE_ASSISTANT_", extra="ignore")

    llm_url: str | None = Field(
        default=None, description="Base URL of an OpenAI-compatible API (…/v1); the built-in engine when unset."
    )
    llm_model: str = "local"
    llm_api_key: str | None = None
    llm_timeout_seconds: float = 4.0
    per_ip_per_second: float = Field(default=5.0, description="Questions per second per address (burst x4).")
    per_account_per_second: float = Field(default=2.0, description="Questions per second per account (burst x5).")
    index_ttl_seconds: float = Field(default=60.0, description="How stale the in-memory catalog may get.")
    facts_ttl_seconds: float = Field(default=10.0, description="How stale festival, deals and return windows may get.")
    orders_ttl_seconds: float = Field(
        default=3.0, description="How long an asker's own orders are reused between their questions."
    )
    answer_cache_seconds: float = Field(default=10.0, description="Identical public questions share one answer.")
    answer_cache_size: int = 20_000
