"""Where the InfluxDB export writes and how, from the hub's settings (no client imported:
a hub without the export never loads the library)."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from hub.settings import HubSettings


@dataclass(frozen=True)
class InfluxConfig:
    """Where to write and how the writer batches, retries and stops."""

    url: str
    org: str
    bucket: str
    token: str = field(repr=False)
    batch_size: int = 1000
    flush_interval_ms: int = 1000
    backlog_max: int = 100_000
    timeout_s: float = 10.0
    retry_interval_s: float = 5.0
    retry_max_s: float = 180.0
    stop_deadline_s: float = 5.0

    @classmethod
    def from_settings(cls, s: HubSettings) -> InfluxConfig | None:
        """The export's configuration; None when ``SMARTCLASS_HUB_INFLUX_URL`` is not set
        (the settings refuse a URL without its org, bucket and token)."""
        if s.influx_url is None or s.influx_org is None or s.influx_bucket is None:
            return None
        if s.influx_token is None:
            return None
        return cls(
            url=s.influx_url,
            org=s.influx_org,
            bucket=s.influx_bucket,
            token=s.influx_token.get_secret_value(),
            batch_size=s.influx_batch_size,
            flush_interval_ms=s.influx_flush_interval_ms,
            backlog_max=s.influx_backlog_max,
            timeout_s=s.influx_timeout_s,
            retry_interval_s=s.influx_retry_interval_s,
            retry_max_s=s.influx_retry_max_s,
            stop_deadline_s=s.influx_stop_deadline_s,
        )

    @property
    def safe_url(self) -> str:
        """The URL without any user or password in it, to show and log."""
        parts = urlsplit(self.url)
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


__all__ = ["InfluxConfig"]
