"""Process settings of the edge agent, from SMARTCLASS_EDGE_* environment variables."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from edge.simulated_day import SimulatedDay
from protocol.tls import optional_context

TLS_CA_SETTING = "SMARTCLASS_EDGE_MQTT_TLS_CA_FILE"


class EdgeSettings(BaseSettings):
    """Where the broker is, the agent's credential, its data folder and its GPIO pin factory."""

    model_config = SettingsConfigDict(env_prefix="SMARTCLASS_EDGE_", extra="ignore")

    mqtt_host: str = Field(default="127.0.0.1", description="Broker host name or address.")
    mqtt_port: int = Field(default=1883, ge=1, le=65535, description="Broker TCP port.")
    mqtt_tls_ca_file: Path | None = Field(
        default=None,
        description="The deployment's CA certificate (PEM): set, the agent speaks TLS to the "
        "broker and refuses one whose certificate that CA did not sign or that does not "
        "carry mqtt_host among its names; unset, plain TCP (loopback only).",
    )
    mqtt_username: str | None = Field(default=None, description="The agent's broker user.")
    mqtt_password: SecretStr | None = Field(default=None, description="The agent's password.")
    credentials_dir: Path | None = Field(
        default=None,
        description="Folder of per-agent credential files (``smartclass broker credentials`` "
        "writes them as env/{username}.env): each room's agent reads its own. For several "
        "rooms in one process; a single room may use mqtt_username and mqtt_password instead.",
    )
    data_dir: Path = Field(default=Path("var/edge"), description="Outbox databases live here.")
    pin_factory: Literal["mock", "lgpio", "native"] | None = Field(
        default=None,
        description="GPIO pin factory: 'mock' (simulated pins), 'lgpio' (any Pi, Pi 5 included, "
        "hardware PWM), 'native', or unset: gpiozero's own choice (lgpio when installed).",
    )
    simulated_day: SimulatedDay | None = Field(
        default=None,
        description="Simulated rooms only (the demo): a school day on a clock of its own, "
        "possibly fast, and simulated teachers asking for help, as JSON, e.g. "
        '{"start": "2025-12-04T06:45:00+07:00", "speed": 60, "help_per_day": 0.5}. '
        "Messages keep the real time.",
    )

    def tls_context(self) -> ssl.SSLContext | None:
        """The TLS context of the agent's MQTT connections, or None for plain TCP.

        Raises ``protocol.tls.TlsConfigError`` naming the setting if the CA file is unusable.
        """
        return optional_context(self.mqtt_tls_ca_file, setting=TLS_CA_SETTING)


class CredentialError(ValueError):
    """A credential file that cannot be read; the message names the file."""


def agent_credential(settings: EdgeSettings, username: str) -> tuple[str | None, str | None]:
    """The broker username and password of the agent ``username``: from its own file in
    ``credentials_dir`` when set, else from ``mqtt_username`` and ``mqtt_password``."""
    if settings.credentials_dir is None:
        password = settings.mqtt_password.get_secret_value() if settings.mqtt_password else None
        return settings.mqtt_username, password
    path = settings.credentials_dir / f"{username}.env"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        msg = f"{path}: cannot read the agent's credential: {exc.strerror or exc}"
        raise CredentialError(msg) from exc
    values = dict(
        line.split("=", 1) for line in text.splitlines() if "=" in line and not line.startswith("#")
    )
    user, password = (
        values.get("SMARTCLASS_EDGE_MQTT_USERNAME"),
        values.get("SMARTCLASS_EDGE_MQTT_PASSWORD"),
    )
    if not user or not password:
        msg = f"{path}: SMARTCLASS_EDGE_MQTT_USERNAME and SMARTCLASS_EDGE_MQTT_PASSWORD are needed"
        raise CredentialError(msg)
    return user, password


def make_pin_factory(choice: Literal["mock", "lgpio", "native"] | None) -> Any:
    """A gpiozero pin factory for a setting value; None leaves the choice to gpiozero."""
    if choice == "mock":
        from gpiozero.pins.mock import MockFactory, MockPWMPin

        return MockFactory(pin_class=MockPWMPin)
    if choice == "lgpio":
        from gpiozero.pins.lgpio import LGPIOFactory

        return LGPIOFactory()
    if choice == "native":
        from gpiozero.pins.native import NativeFactory

        return NativeFactory()
    return None


__all__ = [
    "TLS_CA_SETTING",
    "CredentialError",
    "EdgeSettings",
    "agent_credential",
    "make_pin_factory",
]
