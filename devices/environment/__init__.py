"""The environment family: the room's CO2, temperature, humidity and light; its backends' table."""

from __future__ import annotations

from devices.base import Device
from devices.environment.config import I2cEnvironmentConfig, SimEnvironmentConfig
from devices.environment.i2c import I2cEnvironmentSensor, SensorFault
from devices.environment.sim import SimEnvironmentSensor
from devices.family import DeviceContext, Family


def _sim(device_id: str, config: SimEnvironmentConfig, context: DeviceContext) -> Device:
    return SimEnvironmentSensor(device_id, config, clock=context.clock)


def _i2c(device_id: str, config: I2cEnvironmentConfig, context: DeviceContext) -> Device:
    def on_fault(fault: SensorFault, active: bool) -> None:
        kind, severity = ("sensor_fault", "warning") if active else ("sensor_ok", "info")
        context.alert(device_id, kind, severity, fault.message, fault.as_dict())

    return I2cEnvironmentSensor(device_id, config, on_fault=on_fault)


FAMILY = Family("environment", {SimEnvironmentConfig: _sim, I2cEnvironmentConfig: _i2c})
"""``sim``: a simulated room; ``i2c``: SCD4x and BH1750 chips, whose faults become alerts."""

__all__ = ["FAMILY"]
