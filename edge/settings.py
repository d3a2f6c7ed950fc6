"""Process settings of the edge agent, from SMARTCLASS_EDGE_* environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class EdgeSettings(BaseSettings):
    """Where the broker is, the agent's credential, its data folder and its GPIO pin factory."""

    model_config = SettingsConfigDict(env_prefix="SMARTCLASS_EDGE_", extra="ignore")

    mqtt_host: str = Field(default="127.0.0.1", description="Broker host name or address.")
    mqtt_port: int = Field(default=1883, ge=1, le=65535, description="Broker TCP port.")
    mqtt_username: str | None = Field(default=None, description="The agent's broker user.")
    mqtt_password: SecretStr | None = Field(default=None, description="The agent's password.")
    data_dir: Path = Field(default=Path("var/edge"), description="Outbox databases live here.")
    pin_factory: Literal["mock", "lgpio", "native"] | None = Field(
        default=None,
        description="GPIO pin factory: 'mock' (simulated pins), 'lgpio' (any Pi, Pi 5 included, "
        "hardware PWM), 'native', or unset: gpiozero's own choice (lgpio when installed).",
    )


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


__all__ = ["EdgeSettings", "make_pin_factory"]
