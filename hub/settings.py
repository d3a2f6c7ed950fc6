"""Process settings of the hub, read from ``SMARTCLASS_HUB_*`` environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from protocol import ROOT


class HubSettings(BaseSettings):
    """Where the broker and the database are, and how ingest batches and commands behave."""

    model_config = SettingsConfigDict(env_prefix="SMARTCLASS_HUB_", extra="forbid")

    mqtt_host: str = "127.0.0.1"
    """Broker host name or address."""
    mqtt_port: int = Field(default=1883, ge=1, le=65535)
    mqtt_username: SecretStr | None = None
    """The hub's own broker credential (never an agent's)."""
    mqtt_password: SecretStr | None = None
    topic_root: str = ROOT
    """First level of every smartclass topic."""
    hub_id: str = Field(default="hub-1", min_length=1, max_length=64)
    """MQTT client id and ``sender`` of the hub; one persistent session per id."""
    database_url: str = "sqlite:///var/hub/hub.sqlite"
    """SQLAlchemy URL: SQLite (default, relative paths from the working directory) or PostgreSQL."""
    sites_file: Path | None = None
    """YAML registry of sites and rooms, loaded at start."""
    keepalive_s: int = Field(default=30, ge=5, le=3600)
    session_expiry_s: int = Field(default=7 * 24 * 3600, ge=0)
    """How long the broker keeps the hub's session (and queues its messages) while it is away."""
    ingest_batch_max: int = Field(default=500, ge=1, le=10_000)
    """Most messages written in one database transaction."""
    ingest_flush_ms: float = Field(default=20.0, ge=0, le=10_000)
    """Longest a received message waits for its batch to fill before it is written."""
    command_timeout_s: float = Field(default=5.0, gt=0, le=300)
    """Default time a command waits for the agent's reply."""
    max_body_bytes: int = Field(default=64 * 1024, ge=1024, le=64 * 1024 * 1024)
    """Largest request body the API reads; a longer one is refused with 413."""
    reconnect_min_s: float = Field(default=0.5, gt=0)
    reconnect_max_s: float = Field(default=30.0, gt=0)


__all__ = ["HubSettings"]
