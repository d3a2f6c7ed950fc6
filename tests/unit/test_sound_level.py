"""LAeq of int16 PCM: IEC 61672 A-weighting, calibration, floor, 6 dB per doubling, streaming."""

from __future__ import annotations

import math

import numpy as np
import pytest

from devices.noise.meter import (
    SILENCE_DBFS,
    LevelMeter,
    a_weighting_db,
    laeq,
    laeq_dbfs,
    shaped_noise,
    to_pcm,
    tone,
)

# IEC 61672-1:2013 table 3, A-weighting at the nominal frequencies (dB).
IEC_61672_A = {
    31.5: -39.4,
    63: -26.2,
    100: -19.1,
    125: -16.1,
    250: -8.6,
    500: -3.2,
    1000: 0.0,
    2000: 1.2,
    4000: 1.0,
    8000: -1.1,
    10000: -2.5,
    16000: -6.6,
}


def tone_pcm(frequency: float, amplitude: float, rate: int = 48000, seconds: float = 1.0) -> bytes:
    return to_pcm(tone(frequency, amplitude, rate, round(rate * seconds))).tobytes()


@pytest.mark.parametrize(("frequency", "expected"), IEC_61672_A.items())
def test_curve_matches_the_iec_table(frequency: float, expected: float) -> None:
    # The table gives the curve, rounded to 0.1 dB, at the exact base-10 frequencies
    # 10^(k/10) Hz that the nominal ones stand for (e.g. 125 Hz is 125.89 Hz).
    exact = 10 ** (round(10 * math.log10(frequency)) / 10)
    assert float(a_weighting_db(exact)) == pytest.approx(expected, abs=0.051)


def test_curve_is_minus_infinity_at_dc() -> None:
    assert a_weighting_db(0.0) == -math.inf


@pytest.mark.parametrize("rate", [48000, 44100])
def test_full_scale_1khz_tone_reads_the_calibration(rate: int) -> None:
    assert laeq_dbfs(tone_pcm(1000, 32767 / 32768, rate), rate) == pytest.approx(0.0, abs=0.01)
    assert laeq(tone_pcm(1000, 0.1, rate), rate, 120.0) == pytest.approx(100.0, abs=0.01)


@pytest.mark.parametrize("rate", [48000, 44100])
@pytest.mark.parametrize(
    ("frequency", "attenuation"), [(100, -19.1), (1000, 0.0), (10000, -2.5), (4000, 1.0)]
)
def test_tones_are_weighted_like_the_table(rate: int, frequency: float, attenuation: float) -> None:
    level = laeq(tone_pcm(frequency, 0.25, rate), rate, 94.0)
    expected = 94.0 + 20 * math.log10(0.25) + attenuation
    assert level == pytest.approx(expected, abs=0.1)


def test_tone_not_filling_whole_cycles_is_still_within_a_tenth_of_a_db() -> None:
    for frequency in (50.5, 997.3, 12345.6):
        expected = 20 * math.log10(0.5) + float(a_weighting_db(frequency))
        assert laeq_dbfs(tone_pcm(frequency, 0.5), 48000) == pytest.approx(expected, abs=0.12)


def test_doubling_the_amplitude_adds_6_db() -> None:
    quiet = laeq_dbfs(tone_pcm(1000, 0.05), 48000)
    loud = laeq_dbfs(tone_pcm(1000, 0.1), 48000)
    assert loud - quiet == pytest.approx(20 * math.log10(2), abs=0.01)


def test_silence_reads_the_floor_and_dc_is_weighted_out() -> None:
    silence = np.zeros(48000, dtype=np.int16)
    assert laeq_dbfs(silence, 48000) == SILENCE_DBFS
    assert laeq(silence, 48000, 120.0) == SILENCE_DBFS + 120.0
    offset = np.full(48000, 3000, dtype=np.int16)  # an ADC's DC offset, no sound
    assert laeq_dbfs(offset, 48000) == SILENCE_DBFS
    one_lsb_noise = np.random.default_rng(0).integers(-1, 2, 48000).astype(np.int16)
    assert -105 < laeq_dbfs(one_lsb_noise, 48000) < -90  # quantisation, well above the floor


def test_noise_is_generated_at_the_asked_a_weighted_level() -> None:
    rng = np.random.default_rng(7)
    white = to_pcm(shaped_noise(rng, 48000, 48000, -30.0))
    speechy = to_pcm(shaped_noise(rng, 48000, 48000, -50.0, low_hz=100, high_hz=500))
    assert laeq_dbfs(white, 48000) == pytest.approx(-30.0, abs=0.05)
    assert laeq_dbfs(speechy, 48000) == pytest.approx(-50.0, abs=0.05)


def test_meter_cuts_chunks_into_windows() -> None:
    meter = LevelMeter(48000, 0.5, calibration_db=100.0)
    stream = tone_pcm(1000, 0.1, seconds=0.5) + tone_pcm(1000, 0.2, seconds=0.5)
    stream += tone_pcm(1000, 0.1, seconds=0.25)
    levels: list[float] = []
    for start in range(0, len(stream), 2 * 1000):  # 1000-frame chunks, not a divisor of 24000
        levels += meter.feed(stream[start : start + 2 * 1000])
    assert levels == pytest.approx([80.0, 86.02], abs=0.05)
    assert meter.feed(b"") == []
    assert meter.feed(tone_pcm(1000, 0.1, seconds=0.25)) == pytest.approx([80.0], abs=0.05)


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        laeq_dbfs(b"", 48000)
    with pytest.raises(ValueError, match="int16"):
        laeq_dbfs(np.zeros(10, dtype=np.float64), 48000)
