"""Process settings of the hub, read from ``SMARTCLASS_HUB_*`` environment variables."""

from __future__ import annotations

import re
import socket
import ssl
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, Field, HttpUrl, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from hub.alerts.kinds import Severity
from protocol import ROOT, validate_id
from protocol.tls import optional_context

TLS_CA_SETTING = "SMARTCLASS_HUB_MQTT_TLS_CA_FILE"


def default_hub_id(hostname: str | None = None) -> str:
    """``hub-{hostname}`` made a valid id (lower case, ``a-z 0-9 - _``, at most 63 characters):
    unique per host and the same after every restart, so each hub keeps its own session."""
    name = (hostname if hostname is not None else socket.gethostname()).lower()
    name = re.sub(r"[^a-z0-9_-]+", "-", name).strip("-_")
    return validate_id(f"hub-{name}"[:63].rstrip("-_") if name else "hub-1", "hub id")


def whole_hour_zone(name: str) -> str:
    """An IANA time zone whose offset from UTC is always whole hours (1970 to 2100): usage
    rollups are kept per UTC hour, and each must fall within one local day."""
    try:
        zone = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        msg = f"unknown time zone {name!r} (an IANA name, e.g. Asia/Ho_Chi_Minh)"
        raise ValueError(msg) from exc
    for year in range(1970, 2101):
        for month in (1, 4, 7, 10):
            offset = datetime(year, month, 1, tzinfo=UTC).astimezone(zone).utcoffset()
            if offset is not None and offset.total_seconds() % 3600:
                msg = f"time zone {name!r} is {offset} from UTC in {year}: not whole hours"
                raise ValueError(msg)
    return name


HubId = Annotated[str, AfterValidator(lambda v: validate_id(v, "hub id"))]
GroupName = Annotated[str, AfterValidator(lambda v: validate_id(v, "share group"))]


class HubSettings(BaseSettings):
    """Where the broker and the database are, and how ingest batches and commands behave."""

    model_config = SettingsConfigDict(
        env_prefix="SMARTCLASS_HUB_", extra="forbid", hide_input_in_errors=True
    )
    """Errors name the setting, never its value: the input holds the secrets."""

    mqtt_host: str = "127.0.0.1"
    """Broker host name or address."""
    mqtt_port: int = Field(default=1883, ge=1, le=65535)
    mqtt_tls_ca_file: Path | None = None
    """The deployment's CA certificate (PEM): set, the hub speaks TLS to the broker and
    refuses one whose certificate that CA did not sign or that does not carry ``mqtt_host``
    among its names; unset, plain TCP (a broker on loopback)."""
    mqtt_username: SecretStr | None = None
    """The hub's own broker credential (never an agent's)."""
    mqtt_password: SecretStr | None = None
    topic_root: str = ROOT
    """First level of every smartclass topic."""
    hub_id: HubId = Field(default_factory=default_hub_id)
    """MQTT client id and ``sender`` of the hub; one persistent session per id. Default
    ``hub-{hostname}``: two hubs must never share one."""
    share_group: GroupName | None = None
    """With a group, the agents' messages come through MQTT 5 shared subscriptions
    (``$share/{group}/…``): each goes to one hub of the group. Replies to this hub's own
    commands never are shared."""
    database_url: str = "sqlite:///var/hub/hub.sqlite"
    """SQLAlchemy URL: SQLite (default, relative paths from the working directory) or PostgreSQL."""
    sites_file: Path | None = None
    """YAML registry of sites and rooms, loaded at start; messages of other rooms are refused."""
    keepalive_s: int = Field(default=30, ge=5, le=3600)
    session_expiry_s: int = Field(default=7 * 24 * 3600, ge=0)
    """How long the broker keeps the hub's session (and queues its messages) while it is away."""
    ingest_batch_max: int = Field(default=500, ge=1, le=10_000)
    """Most messages written in one database transaction."""
    ingest_flush_ms: float = Field(default=20.0, ge=0, le=10_000)
    """Longest a received message waits for its batch to fill before it is written."""
    max_payload_bytes: int = Field(default=256 * 1024, ge=1024, le=16 * 1024 * 1024)
    """A larger payload is a dead letter (``too_large``) without being parsed."""
    clock_skew_max_s: float = Field(default=300.0, gt=0)
    """A message time further than this from the hub's clock is flagged (for telemetry and
    events only the future counts: an outbox replays old data; a reading gone back this far
    behind the current one counts too), and such a reading never becomes the room's current
    value (``hub.latest``)."""
    room_series_max: int = Field(default=256, ge=1, le=100_000)
    """Most distinct (device, metric) latest readings one room can make the hub keep."""
    ack_interval_ms: float = Field(default=250.0, ge=0, le=60_000)
    """Least time between two acknowledgements (``ack`` topic) to one agent."""
    dead_letters_max: int = Field(default=10_000, ge=1)
    """Dead letters kept; older ones are deleted."""
    dead_letters_max_age_s: int = Field(default=7 * 24 * 3600, ge=60)
    """Dead letters older than this are deleted."""
    prune_interval_s: float = Field(default=300.0, gt=0)
    """How often dead letters are pruned (also at start, and after a burst of them)."""
    command_timeout_s: float = Field(default=5.0, gt=0, le=300)
    """Default time a command waits for the agent's reply."""
    config_push_timeout_s: float = Field(default=5.0, gt=0, le=300)
    """Longest wait for the broker to take a room's configuration (its PUBACK); beyond it
    the push counts as failed and is tried again."""
    config_retry_max_s: float = Field(default=60.0, ge=1, le=3600)
    """Longest pause between two tries of a configuration push the broker did not take
    (the first after 1 s, then doubling); while the hub is disconnected it tries each second."""
    max_body_bytes: int = Field(default=64 * 1024, ge=1024, le=64 * 1024 * 1024)
    """Largest request body the API reads; a longer one is refused with 413."""
    session_idle_s: int = Field(default=12 * 3600, ge=60, le=30 * 86400)
    """A web session unused this long ends (the user signs in again)."""
    session_max_s: int = Field(default=14 * 86400, ge=300, le=365 * 86400)
    """A web session ends this long after sign-in, used or not."""
    cookie_secure: Literal["auto", "always", "never"] = "auto"
    """The session cookie's ``Secure`` flag: ``auto`` sets it when the request came over
    HTTPS; ``always`` behind a TLS proxy that forwards plain HTTP."""
    argon2_time_cost: int = Field(default=3, ge=1, le=20)
    """Passes of argon2id over its memory per password hash (sign-in cost)."""
    argon2_memory_kib: int = Field(default=64 * 1024, ge=8 * 1024, le=4 * 1024 * 1024)
    """Memory of one argon2id password hash, KiB (64 MiB by default; at least 8 MiB)."""
    login_failures_max: int = Field(default=5, ge=1, le=1000)
    """Failed sign-ins for one user name within ``login_window_s`` before more are refused."""
    login_address_failures_max: int = Field(default=20, ge=1, le=100_000)
    """Failed sign-ins from one address within ``login_window_s`` before more are refused."""
    login_window_s: float = Field(default=900.0, gt=0, le=86400)
    audit_retention_days: int | None = Field(default=730, ge=1, le=36500)
    """Audit entries older than this are deleted by the pruning task; none: kept for ever."""
    audit_page_rows: int = Field(default=50, ge=5, le=1000)
    """Entries on one page of the audit log's web page (the API's ``limit`` is the caller's)."""
    reconnect_min_s: float = Field(default=0.5, gt=0)
    reconnect_max_s: float = Field(default=30.0, gt=0)
    restart_min_s: float = Field(default=0.5, gt=0)
    """First delay before a task that failed unexpectedly (ingest, pruning) starts again."""
    restart_max_s: float = Field(default=30.0, gt=0)
    alerts: bool = True
    """Judge alerts from what the ingest stores and from time (an agent offline too long).
    Off: no alert is raised or ended, no help request answered, and the alert API answers
    503; the ingest does no alert work per message."""
    alert_offline_grace_s: float = Field(default=120.0, ge=0, le=7 * 24 * 3600)
    """An agent offline (its status, or its will) for this long raises an alert; it ends when
    the agent is back online."""
    alert_gap_grace_s: float = Field(default=300.0, ge=0, le=7 * 24 * 3600)
    """Messages missing (neither stored nor reported dropped) for this long raise an alert; an
    outbox still catching up after a lost link is not one."""
    alert_drops_quiet_s: float = Field(default=3600.0, gt=0, le=30 * 24 * 3600)
    """An alert for messages an agent dropped ends by itself after this long without more."""
    alert_co2_high_ppm: float = Field(default=1200.0, gt=0, le=100_000)
    """CO2 at or above this raises an alert for the room's sensor."""
    alert_co2_hysteresis_ppm: float = Field(default=100.0, ge=0, le=100_000)
    """The CO2 alert ends below ``alert_co2_high_ppm`` minus this, so it cannot flap."""
    alert_lamp_hours: float = Field(default=4000.0, gt=0)
    """A projector lamp with this many hours is due for replacement."""
    alert_filter_hours: float = Field(default=1000.0, gt=0)
    """A projector filter with this many hours is due for cleaning or replacement."""
    alert_check_interval_s: float = Field(default=5.0, gt=0, le=3600)
    """How often what time alone decides (an agent that stays offline) is looked at."""
    alert_events_max: int = Field(default=10_000, ge=1, le=1_000_000)
    """Help events waiting to be judged; beyond, they are dropped and counted."""
    webhook_url: HttpUrl | None = None
    """Where every alert transition is POSTed as JSON; none: no webhook."""
    webhook_severities: Annotated[frozenset[Severity], NoDecode] = frozenset(
        {"warning", "critical"}
    )
    """Which alerts are sent, comma-separated: ``info``, ``warning``, ``critical``."""
    webhook_timeout_s: float = Field(default=5.0, gt=0, le=120)
    """Longest one POST may take."""
    webhook_retries: int = Field(default=3, ge=0, le=20)
    """Attempts after a failed first one (no connection, a time-out, 5xx, 408, 429)."""
    webhook_backoff_s: float = Field(default=1.0, gt=0, le=600)
    """Wait before the first retry; it doubles with each (at most 60 s)."""
    webhook_queue_max: int = Field(default=1000, ge=1, le=1_000_000)
    """Notifications waiting to be sent; beyond, they are dropped and counted."""
    webhook_secret: SecretStr | None = Field(default=None, min_length=16)
    """Signs every webhook POST (``X-Smartclass-Signature``, HMAC-SHA256; see
    ``hub/alerts/webhook.py``); at least 16 characters. Needed whenever a webhook is set."""
    rollups: bool = True
    """Keep the usage rollups (hourly and daily, per device) up to date in each ingest
    transaction; the usage reports read nothing else. Off: reports show no new usage."""
    report_timezone: Annotated[str, AfterValidator(whole_hour_zone)] = "Asia/Ho_Chi_Minh"
    """Time zone of the days, weeks and months of usage reports (its offset from UTC must be
    whole hours)."""
    projector_watts: float = Field(default=250.0, ge=0, le=100_000)
    """Power of a projector while on, unless the sites file gives the device's own."""
    lighting_watts: float = Field(default=200.0, ge=0, le=100_000)
    """Power of a lighting device with all its zones lit, unless the sites file gives its own."""
    report_days_max: int = Field(default=1100, ge=31, le=3700)
    """Longest range of days one usage report may cover."""
    live_events_max: int = Field(default=1000, ge=10, le=100_000)
    """Events the live stream (``/api/v1/stream``) keeps for pages that reconnect; a page that
    missed more reloads what it shows."""
    live_listeners_max: int = Field(default=200, ge=1, le=10_000)
    """Pages following the live stream at once; one more gets 503 and tries again later."""
    live_telemetry_interval_s: float = Field(default=5.0, ge=0, le=3600)
    """Least time between two telemetry events of one room on the live stream (readings in
    between are merged into the next)."""
    live_stream_max_s: float = Field(default=600.0, ge=1, le=86_400)
    """A live stream ends after this long and the page reconnects at once, catching up; a
    session that ended or a reach that changed takes effect then."""

    def tls_context(self) -> ssl.SSLContext | None:
        """The TLS context of the hub's MQTT connections, or None for plain TCP.

        Raises ``protocol.tls.TlsConfigError`` naming the setting if the CA file is unusable.
        """
        return optional_context(self.mqtt_tls_ca_file, setting=TLS_CA_SETTING)

    @field_validator("webhook_severities", mode="before")
    @classmethod
    def _severity_list(cls, value: object) -> object:
        """``warning,critical`` from the environment; a list or set as it is."""
        if isinstance(value, str):
            return frozenset(part.strip() for part in value.split(",") if part.strip())
        return value

    @model_validator(mode="after")
    def _webhook_signed(self) -> HubSettings:
        """A webhook is never unsigned: its receiver could not tell the hub from anyone."""
        if self.webhook_url is not None and self.webhook_secret is None:
            msg = "SMARTCLASS_HUB_WEBHOOK_SECRET must be set when SMARTCLASS_HUB_WEBHOOK_URL is"
            raise ValueError(msg)
        return self

    @model_validator(mode="after")
    def _co2_band(self) -> HubSettings:
        if self.alert_co2_hysteresis_ppm >= self.alert_co2_high_ppm:
            msg = (
                f"alert_co2_hysteresis_ppm ({self.alert_co2_hysteresis_ppm:g}) must be below "
                f"alert_co2_high_ppm ({self.alert_co2_high_ppm:g})"
            )
            raise ValueError(msg)
        return self

    influx_url: str | None = Field(default=None, pattern=r"^https?://[^\s/]+")
    """InfluxDB to export telemetry, states, events and agent health to
    (``http://influxdb:8086``); unset: no export. Needs the org, bucket and token."""
    influx_org: str | None = Field(default=None, min_length=1)
    """The InfluxDB organisation (InfluxDB 1.8 ignores it: any word, e.g. ``-``)."""
    influx_bucket: str | None = Field(default=None, min_length=1)
    """The bucket (InfluxDB 1.8: ``database/retention-policy``; 3.x: the database)."""
    influx_token: SecretStr | None = None
    """A token that may write to the bucket (InfluxDB 1.8: ``user:password``)."""
    influx_batch_size: int = Field(default=1000, ge=1, le=100_000)
    """Most points in one write request."""
    influx_flush_interval_ms: int = Field(default=1000, ge=10, le=60_000)
    """Longest a point waits for its batch to fill before it is written (the writer's timer
    thread may outlive a stop by as much)."""
    influx_backlog_max: int = Field(default=100_000, ge=1, le=10_000_000)
    """Most points kept (waiting or being retried) while InfluxDB is away or slow; beyond,
    new points are dropped and counted."""
    influx_timeout_s: float = Field(default=10.0, gt=0, le=300)
    """Longest one write request may take."""
    influx_retry_interval_s: float = Field(default=5.0, gt=0, le=600)
    """First wait before a failed write is tried again; the waits double up to 60 s."""
    influx_retry_max_s: float = Field(default=180.0, gt=0, le=86_400)
    """How long one batch is retried before its points count as failed."""
    influx_stop_deadline_s: float = Field(default=5.0, ge=0, le=300)
    """Longest the hub waits at shutdown for what is waiting to be written."""

    @model_validator(mode="after")
    def _influx_complete(self) -> HubSettings:
        """A URL needs its org, bucket and token; those without a URL are a mistake too (a
        misspelt URL variable would silently turn the export off)."""
        parts = {
            "SMARTCLASS_HUB_INFLUX_ORG": self.influx_org,
            "SMARTCLASS_HUB_INFLUX_BUCKET": self.influx_bucket,
            "SMARTCLASS_HUB_INFLUX_TOKEN": self.influx_token,
        }
        if self.influx_url is not None:
            missing = [name for name, value in parts.items() if value is None]
            if missing:
                msg = f"{', '.join(missing)} must be set when SMARTCLASS_HUB_INFLUX_URL is"
                raise ValueError(msg)
        else:
            given = [name for name, value in parts.items() if value is not None]
            if given:
                msg = f"{', '.join(given)} set without SMARTCLASS_HUB_INFLUX_URL"
                raise ValueError(msg)
        return self


__all__ = ["TLS_CA_SETTING", "HubSettings", "default_hub_id", "whole_hour_zone"]
