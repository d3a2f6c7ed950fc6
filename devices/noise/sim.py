"""A simulated microphone: generated babble, a tone or a WAV file through the real level meter."""

from __future__ import annotations

import math
import secrets
import time
import wave
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

from devices.base import Action, Clock, Device, DeviceError, DeviceUnavailable, parse_params
from devices.noise.config import BabbleSource, SimNoiseConfig, ToneSource, WavSource
from devices.noise.meter import laeq, shaped_noise, to_pcm, tone


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


__all__ = ["SimNoiseSensor", "babble_dba", "read_wav"]
