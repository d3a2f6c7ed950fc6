"""Classroom noise level (LAeq, dB(A)): config of both backends, and the simulated sensor."""

from __future__ import annotations

import math
import secrets
import time
import wave
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

from devices.base import Action, Clock, Device, DeviceError, DeviceUnavailable, parse_params
from devices.sound_level import laeq, shaped_noise, to_pcm, tone

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


class PyAudioNoiseConfig(BaseModel):
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


class SimNoiseConfig(BaseModel):
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


NoiseConfig = Annotated[PyAudioNoiseConfig | SimNoiseConfig, Field(discriminator="backend")]
"""Noise sensor config, picked by ``backend``."""


def babble_dba(source: BabbleSource, people: int) -> float:
    """The babble model's level: background and active talkers added as powers."""
    talkers = people * source.talking_fraction
    power = 10 ** (source.background_dba / 10) + talkers * 10 ** (source.talker_dba / 10)
    return 10 * math.log10(power)


def read_wav(path: Path, device_id: str) -> tuple[NDArray[np.int16], int]:
    """The first channel of a 16-bit PCM WAV file, and its rate."""
    try:
        with wave.open(str(path), "rb") as wav:
            width, channels, rate = wav.getsampwidth(), wav.getnchannels(), wav.getframerate()
            frames = wav.readframes(wav.getnframes())
    except (OSError, EOFError, wave.Error) as exc:
        msg = f"noise {device_id!r}: cannot read WAV {str(path)!r}: {exc}"
        raise DeviceUnavailable(msg) from exc
    if width != 2:
        msg = f"noise {device_id!r}: {str(path)!r} has {8 * width}-bit samples; 16-bit needed"
        raise DeviceError(msg)
    samples = np.frombuffer(frames, dtype="<i2")[::channels].astype(np.int16)
    if samples.size == 0:
        msg = f"noise {device_id!r}: {str(path)!r} holds no samples"
        raise DeviceError(msg)
    return samples, rate


class _Occupancy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    people: int = Field(ge=0, le=200)


class SimNoiseSensor(Device):
    """Windows of a simulated signal through the same LAeq computation as the microphone.

    Time comes from an injectable clock: a reading at time t is the level of the last
    window completed by then (the one just before start counts as complete), so a test
    drives it without waiting. Window j of the signal is a pure function of j, the seed
    and the occupancy, so readings do not depend on how often one reads.
    """

    family = "noise"

    def __init__(
        self, device_id: str, config: SimNoiseConfig, *, clock: Clock | None = None
    ) -> None:
        super().__init__(device_id)
        self.config = config
        self._clock = clock or time.monotonic
        self._start = self._clock()
        self._people = config.occupancy
        self._seed = config.seed if config.seed is not None else secrets.randbits(64)
        self._wav: NDArray[np.int16] | None = None
        self.sample_rate = config.sample_rate
        if isinstance(config.source, WavSource):
            self._wav, self.sample_rate = read_wav(config.source.path, device_id)
        self._window = max(1, round(self.sample_rate * config.interval_s))
        self._cached: tuple[int, int, float] | None = None
        self._actions: dict[str, Action] = {"set_occupancy": self._set_occupancy_action}

    @property
    def actions(self) -> Mapping[str, Action]:
        return self._actions

    @property
    def occupancy(self) -> int:
        return self._people

    def set_occupancy(self, people: int) -> None:
        """Change how many people are in the room (only the babble source depends on it)."""
        if people < 0:
            msg = f"occupancy cannot be negative: {people}"
            raise ValueError(msg)
        self._people = people

    def window_pcm(self, j: int) -> NDArray[np.int16]:
        """The int16 samples of window ``j`` (0: the one ending at start)."""
        n, rate, source = self._window, self.sample_rate, self.config.source
        if self._wav is not None:
            return self._wav[(j * n + np.arange(n)) % self._wav.size]
        rng = np.random.default_rng([self._seed, j])
        cal = self.config.calibration_db
        if isinstance(source, ToneSource):
            signal = tone(source.frequency_hz, source.amplitude, rate, n, start=j * n)
            if source.noise_dbfs is not None:
                signal = signal + shaped_noise(rng, n, rate, source.noise_dbfs)
            return to_pcm(signal)
        assert isinstance(source, BabbleSource)
        level = babble_dba(source, self._people) - cal
        voices = shaped_noise(rng, n, rate, level, low_hz=100.0, high_hz=500.0)
        # Syllables come about 4 times a second; many voices smooth the envelope out.
        depth = 1 / math.sqrt(1 + self._people * source.talking_fraction)
        t = (j * n + np.arange(n)) / rate
        envelope = 1 + depth * np.sin(2 * np.pi * 4.0 * t + rng.uniform(0, 2 * np.pi))
        return to_pcm(voices * envelope / math.sqrt(1 + depth**2 / 2))

    def level(self) -> float:
        """The level of the last window completed by now, dB(A)."""
        j = max(0, math.floor((self._clock() - self._start) / self.config.interval_s))
        if self._cached is None or self._cached[:2] != (j, self._people):
            value = laeq(self.window_pcm(j), self.sample_rate, self.config.calibration_db)
            self._cached = (j, self._people, value)
        return self._cached[2]

    async def read(self) -> dict[str, float]:
        return {"noise_dba": round(self.level(), 1)}

    async def state(self) -> dict[str, Any]:
        return {"noise_dba": round(self.level(), 1), "occupancy": self._people}

    async def _set_occupancy_action(self, params: dict[str, Any]) -> dict[str, Any]:
        self.set_occupancy(parse_params(_Occupancy, params).people)
        return await self.state()


__all__ = [
    "CALIBRATION_DB_DEFAULT",
    "BabbleSource",
    "NoiseConfig",
    "NoiseSource",
    "PyAudioNoiseConfig",
    "SimNoiseConfig",
    "SimNoiseSensor",
    "ToneSource",
    "WavSource",
    "babble_dba",
    "read_wav",
]
