"""A-weighted equivalent sound level (LAeq) of int16 PCM, and test signals at a given level."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike, NDArray

FULL_SCALE = 32768.0
"""int16 full scale: samples are divided by this to lie in [-1, 1)."""

SINE_DBFS_OFFSET = 10 * math.log10(2)
"""dBFS follow AES17: a full-scale sine is 0 dBFS, so dBFS = 10·log10(mean square) + 3.01."""

SILENCE_DBFS = -120.0
"""Floor of every level, far below int16 quantisation noise (about -98 dBFS unweighted)."""

# IEC 61672-1:2013, annex E: the analogue A-weighting poles (Hz), normalised to 0 dB at 1 kHz.
_F1, _F2, _F3, _F4 = 20.598997, 107.65265, 737.86223, 12194.217

Pcm = bytes | bytearray | memoryview | NDArray[np.int16]
"""Mono int16 samples: raw native-endian bytes (as PyAudio gives them) or an int16 array."""


def _a_response(f: NDArray[np.float64]) -> NDArray[np.float64]:
    f2 = f * f
    num = _F4**2 * f2 * f2
    den = (f2 + _F1**2) * np.sqrt((f2 + _F2**2) * (f2 + _F3**2)) * (f2 + _F4**2)
    response: NDArray[np.float64] = num / den
    return response


_A_AT_1KHZ = float(_a_response(np.array([1000.0]))[0])


def a_weighting_db(frequency_hz: ArrayLike) -> NDArray[np.float64]:
    """The A-weighting of IEC 61672-1 in dB at each frequency (-inf at 0 Hz)."""
    f = np.asarray(frequency_hz, dtype=np.float64)
    with np.errstate(divide="ignore"):
        weights: NDArray[np.float64] = 20 * np.log10(_a_response(f) / _A_AT_1KHZ)
    return weights


@lru_cache(maxsize=8)
def _bin_gains(n: int, sample_rate: int) -> NDArray[np.float64]:
    """Power gain of each rfft bin of an n-sample window, with the one-sided Parseval factor."""
    freqs = np.asarray(np.fft.rfftfreq(n, d=1.0 / sample_rate), dtype=np.float64)
    gains: NDArray[np.float64] = _a_response(freqs) ** 2 / _A_AT_1KHZ**2
    gains[1:] *= 2.0  # every bin but DC stands for a positive and a negative frequency
    if n % 2 == 0:
        gains[-1] /= 2.0  # the Nyquist bin has no twin
    gains.setflags(write=False)
    return gains


def as_samples(pcm: Pcm) -> NDArray[np.int16]:
    """View PCM bytes (native-endian int16, as PyAudio returns them) as an int16 array."""
    if isinstance(pcm, np.ndarray):
        if pcm.dtype != np.int16 or pcm.ndim != 1:
            msg = f"PCM must be a 1-D int16 array, not {pcm.ndim}-D {pcm.dtype}"
            raise ValueError(msg)
        return pcm
    return np.frombuffer(pcm, dtype=np.int16)


def laeq_dbfs(pcm: Pcm, sample_rate: int) -> float:
    """A-weighted equivalent level of a window of samples, in dBFS (floored at SILENCE_DBFS).

    The weighting is applied in the frequency domain with the analytic curve, so it is
    exact up to the Nyquist frequency (a bilinear-transformed IIR filter loses about 1 dB
    at 10 kHz and far more above at 48 kHz sampling), and needs no filter state: the
    level of a window is the weighted energy of its spectrum (Parseval), so every sample
    counts equally, as LAeq requires. DC and any offset of the ADC are weighted out.
    """
    samples = as_samples(pcm)
    n = samples.size
    if n == 0:
        msg = "cannot take the level of an empty window"
        raise ValueError(msg)
    spectrum = np.fft.rfft(samples.astype(np.float64) / FULL_SCALE)
    power = spectrum.real**2 + spectrum.imag**2
    mean_square = float(np.dot(power, _bin_gains(n, sample_rate))) / (n * n)
    if mean_square <= 0:
        return SILENCE_DBFS
    return max(SILENCE_DBFS, 10 * math.log10(mean_square) + SINE_DBFS_OFFSET)


def laeq(pcm: Pcm, sample_rate: int, calibration_db: float) -> float:
    """A-weighted equivalent level of a window in dB, with 0 dBFS read as ``calibration_db``."""
    return laeq_dbfs(pcm, sample_rate) + calibration_db


class LevelMeter:
    """Cuts a stream of PCM chunks into consecutive windows and gives each window's LAeq.

    Not thread-safe: one producer (the capture thread, or a simulator) feeds it.
    """

    def __init__(self, sample_rate: int, window_s: float, calibration_db: float) -> None:
        self.sample_rate = sample_rate
        self.window = max(1, round(sample_rate * window_s))
        self.calibration_db = calibration_db
        self._pending: list[NDArray[np.int16]] = []
        self._pending_n = 0

    def feed(self, pcm: Pcm) -> list[float]:
        """Add samples; return the level in dB of every window they complete, oldest first."""
        samples = as_samples(pcm)
        if samples.size == 0:
            return []
        self._pending.append(samples)
        self._pending_n += samples.size
        if self._pending_n < self.window:
            return []
        stream = np.concatenate(self._pending)
        full = stream.size // self.window * self.window
        levels = [
            laeq(stream[start : start + self.window], self.sample_rate, self.calibration_db)
            for start in range(0, full, self.window)
        ]
        rest = stream[full:]
        self._pending = [rest] if rest.size else []
        self._pending_n = rest.size
        return levels


def to_pcm(signal: NDArray[np.float64]) -> NDArray[np.int16]:
    """Round a signal in full-scale units ([-1, 1)) to int16, clipping what exceeds it."""
    scaled = np.rint(signal * FULL_SCALE)
    return np.clip(scaled, -32768, 32767).astype(np.int16)


def tone(
    frequency_hz: float, amplitude: float, sample_rate: int, n: int, *, start: int = 0
) -> NDArray[np.float64]:
    """A sine of peak ``amplitude`` (full scale = 1), samples ``start`` .. ``start + n``."""
    t = (start + np.arange(n, dtype=np.float64)) / sample_rate
    wave: NDArray[np.float64] = amplitude * np.sin(2 * np.pi * frequency_hz * t)
    return wave


def shaped_noise(
    rng: np.random.Generator,
    n: int,
    sample_rate: int,
    level_dbfs: float,
    *,
    low_hz: float = 0.0,
    high_hz: float | None = None,
) -> NDArray[np.float64]:
    """Random noise whose A-weighted level is exactly ``level_dbfs``.

    Its spectrum rises 6 dB/octave below ``low_hz`` and falls 6 dB/octave above
    ``high_hz`` (first-order corners; 0 and None leave it white), which with
    ``low_hz=100, high_hz=500`` is a fair stand-in for the long-term spectrum of speech.
    """
    freqs = np.fft.rfftfreq(n, d=1.0 / sample_rate)
    shape = np.ones_like(freqs)
    if low_hz > 0:
        shape *= (freqs / low_hz) ** 2 / (1 + (freqs / low_hz) ** 2)
    if high_hz is not None:
        shape *= 1 / (1 + (freqs / high_hz) ** 2)
    spectrum = (rng.standard_normal(freqs.size) + 1j * rng.standard_normal(freqs.size)) * np.sqrt(
        shape
    )
    noise = np.fft.irfft(spectrum, n=n)
    power = np.abs(np.fft.rfft(noise)) ** 2
    weighted_ms = float(np.dot(power, _bin_gains(n, sample_rate))) / (n * n)
    if weighted_ms <= 0:
        return np.zeros(n)
    target_ms = 10 ** ((level_dbfs - SINE_DBFS_OFFSET) / 10)
    scaled: NDArray[np.float64] = noise * math.sqrt(target_ms / weighted_ms)
    return scaled


__all__ = [
    "FULL_SCALE",
    "SILENCE_DBFS",
    "SINE_DBFS_OFFSET",
    "LevelMeter",
    "Pcm",
    "a_weighting_db",
    "as_samples",
    "laeq",
    "laeq_dbfs",
    "shaped_noise",
    "tone",
    "to_pcm",
]
