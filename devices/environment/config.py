"""Environment sensor config models: SCD4x and BH1750 chips on I2C, or a simulated room."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from devices.family import BackendConfig


class Scd4xConfig(BaseModel):
    """A Sensirion SCD40/SCD41 for CO2, temperature and humidity."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    chip: Literal["scd4x"] = Field(description="Sensirion SCD40 or SCD41.")
    address: int = Field(default=0x62, ge=0x08, le=0x77, description="I2C address (0x62).")


class Bh1750Config(BaseModel):
    """A ROHM BH1750 for illuminance."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    chip: Literal["bh1750"] = Field(description="ROHM BH1750.")
    address: Literal[0x23, 0x5C] = Field(
        default=0x23, description="I2C address: 0x23 (ADDR low) or 0x5C (ADDR high)."
    )


class I2cEnvironmentConfig(BackendConfig):
    """Environment sensors on one I2C bus of the Pi: a CO2 sensor, a light sensor, or both."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    family: Literal["environment"] = Field(
        default="environment", description="Device family: room environment sensor."
    )
    backend: Literal["i2c"] = Field(description="Sensors on an I2C bus (/dev/i2c-N).")
    bus: int = Field(default=1, ge=0, description="I2C bus number: 1 on the Pi's header pins.")
    co2: Scd4xConfig | None = Field(
        default=None, description="CO2, temperature and humidity sensor."
    )
    light: Bh1750Config | None = Field(default=None, description="Light sensor.")
    timeout_s: float = Field(
        default=2.0, gt=0, le=30, description="Longest one sensor transaction may take, s."
    )

    @model_validator(mode="after")
    def _some_sensor(self) -> I2cEnvironmentConfig:
        if self.co2 is None and self.light is None:
            msg = "give at least one sensor: 'co2' or 'light'"
            raise ValueError(msg)
        if (
            self.co2 is not None
            and self.light is not None
            and self.co2.address == self.light.address
        ):
            msg = f"co2 and light sensors share address 0x{self.co2.address:02x}"
            raise ValueError(msg)
        return self


class SimEnvironmentConfig(BackendConfig):
    """A simulated room: CO2, heat and moisture from the people in it, removed by ventilation."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    family: Literal["environment"] = Field(
        default="environment", description="Device family: room environment sensor."
    )
    backend: Literal["sim"] = Field(description="Simulated sensor (no hardware).")
    seed: int | None = Field(default=None, description="Seed of the reading noise; None: random.")
    volume_m3: float = Field(default=180.0, gt=0, description="Air volume of the room, m³.")
    air_changes_per_h: float = Field(
        default=2.0, gt=0, description="Ventilation: outdoor air volumes exchanged per hour."
    )
    outdoor_co2_ppm: float = Field(default=420.0, ge=0, description="CO2 of the outdoor air.")
    co2_per_person_lps: float = Field(
        default=0.0045, ge=0, description="CO2 exhaled per seated pupil, litres per second."
    )
    base_temperature_c: float = Field(
        default=29.0, description="Temperature of the empty room (ventilation brings it back)."
    )
    temperature_per_person_c: float = Field(
        default=0.08, ge=0, description="Steady-state warming per person, °C."
    )
    base_humidity_pct: float = Field(
        default=70.0, ge=0, le=100, description="Relative humidity of the empty room, %."
    )
    humidity_per_person_pct: float = Field(
        default=0.15, ge=0, description="Steady-state rise of relative humidity per person, %."
    )
    thermal_time_constant_s: float = Field(
        default=1800.0, gt=0, description="How slowly temperature and humidity follow occupancy."
    )
    daylight_lux: float = Field(default=350.0, ge=0, description="Mean illuminance at the desks.")
    noise: bool = Field(default=True, description="Add slight sensor noise to readings.")
    occupancy: int = Field(default=0, ge=0, le=200, description="People in the room at start.")


__all__ = [
    "Bh1750Config",
    "I2cEnvironmentConfig",
    "Scd4xConfig",
    "SimEnvironmentConfig",
]
