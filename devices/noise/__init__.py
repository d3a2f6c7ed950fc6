"""The noise family: the classroom's A-weighted sound level (LAeq, dB(A)); its backends' table."""

from __future__ import annotations

from devices.base import Device
from devices.family import DeviceContext, Family
from devices.noise.config import PyAudioNoiseConfig, SimNoiseConfig
from devices.noise.sim import SimNoiseSensor


def _pyaudio(device_id: str, config: PyAudioNoiseConfig, context: DeviceContext) -> Device:
    from devices.noise.microphone import MicrophoneNoiseSensor  # PyAudio only where it is used

    return MicrophoneNoiseSensor(device_id, config)


def _sim(device_id: str, config: SimNoiseConfig, context: DeviceContext) -> Device:
    return SimNoiseSensor(device_id, config, clock=context.clock)


FAMILY = Family("noise", {PyAudioNoiseConfig: _pyaudio, SimNoiseConfig: _sim})
"""``pyaudio``: a microphone (PyAudio may be absent until one is used); ``sim``: generated."""

__all__ = ["FAMILY"]
