"""Noise sensor config models: a microphone through PyAudio, or a simulated signal."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from devices.family import BackendConfig

CALIBRATION_DB_DEFAULT = 120.0
"""A full-scale sine reads 120 dB: a MEMS microphone of -26 dBFS sensitivity at 94 dB SPL."""

CalibrationDb = Annotated[
    float,
    Field(
        ge=60,
        le=160,
        description=(
            "dB SPL that a full-scale (0 dBFS) sine reads: 94 minus the microphone's "
            "sensitivity in dBFS at 94 dB SPL. 120 fits INMP441/SPH0645-class MEMS microphones "
            "(-26 dBFS); after measuring an acoustic calibrator, add (its level - the reading)."
        ),
    ),
]
IntervalS = Annotated[
    float, Field(ge=0.1, le=60, description="Length of each LAeq window, s; one level each.")
]
SampleRate = Annotated[int, Field(ge=8000, le=192000, description="Sampling rate, Hz.")]


class PyAudioNoiseConfig(BackendConfig):
    """A microphone read through PyAudio (PortAudio over ALSA on the Pi)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    family: Literal["noise"] = Field(default="noise", description="Device family: noise level.")
    backend: Literal["pyaudio"] = Field(description="A capture device through PyAudio.")
    device: Annotated[int, Field(ge=0)] | str | None = Field(
        default=None,
        description=(
            "Input device: PortAudio index, or part of its name (case-insensitive, e.g. "
            "'USB'); None: the default input device."
        ),
    )
    sample_rate: SampleRate = 48000
    frames_per_buffer: int = Field(
        default=4800, ge=64, le=65536, description="Frames per blocking read (4800: 0.1 s)."
    )
    interval_s: IntervalS = 1.0
    calibration_db: CalibrationDb = CALIBRATION_DB_DEFAULT
    timeout_s: float = Field(
        default=5.0,
        gt=0,
        le=300,
        description="How late past its window's end a level may be before read() times out.",
    )


class ToneSource(BaseModel):
    """A sine, with optional white noise under it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["tone"] = Field(description="A generated tone.")
    frequency_hz: float = Field(default=1000.0, gt=0, le=24000, description="Tone frequency, Hz.")
    amplitude: float = Field(
        default=0.1, ge=0, le=1, description="Peak amplitude, fraction of full scale."
    )
    noise_dbfs: float | None = Field(
        default=None, le=0, description="White noise at this A-weighted level, dBFS; None: none."
    )


class BabbleSource(BaseModel):
    """Classroom babble: speech-shaped noise whose level follows the number of people."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["babble"] = Field(description="Voices of the people in the room.")
    background_dba: float = Field(
        default=35.0, description="Empty room (ventilation, traffic), dB(A) at the microphone."
    )
    talker_dba: float = Field(
        default=55.0, description="One voice at the microphone, dB(A) (normal effort at ~2 m)."
    )
    talking_fraction: float = Field(
        default=0.25, ge=0, le=1, description="Share of the people talking at any moment."
    )


class WavSource(BaseModel):
    """A recording, played in a loop."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["wav"] = Field(description="A 16-bit PCM WAV file (its own rate; channel 1).")
    path: Path = Field(description="The WAV file.")


NoiseSource = Annotated[ToneSource | BabbleSource | WavSource, Field(discriminator="kind")]


class SimNoiseConfig(BackendConfig):
    """A simulated microphone: a generated signal or a WAV file through the real level meter."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    family: Literal["noise"] = Field(default="noise", description="Device family: noise level.")
    backend: Literal["sim"] = Field(description="Simulated microphone (no hardware).")
    source: NoiseSource = Field(
        default=BabbleSource(kind="babble"), description="What the microphone hears."
    )
    sample_rate: SampleRate = 48000
    interval_s: IntervalS = 1.0
    calibration_db: CalibrationDb = CALIBRATION_DB_DEFAULT
    seed: int | None = Field(default=None, ge=0, description="Seed of the noise; None: random.")
    occupancy: int = Field(default=0, ge=0, le=200, description="People in the room at start.")


__all__ = [
    "CALIBRATION_DB_DEFAULT",
    "BabbleSource",
    "CalibrationDb",
    "IntervalS",
    "NoiseSource",
    "PyAudioNoiseConfig",
    "SampleRate",
    "SimNoiseConfig",
    "ToneSource",
    "WavSource",
]
