"""The noise family's config and simulator, and one contract every noise backend meets."""

from __future__ import annotations

import math
import wave
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydantic import TypeAdapter

from devices import noise
from devices.base import BadCommand, DeviceError, DeviceUnavailable, Sensor
from devices.noise.config import BabbleSource, PyAudioNoiseConfig, SimNoiseConfig
from devices.noise.meter import to_pcm, tone
from devices.noise.microphone import MicrophoneNoiseSensor
from devices.noise.sim import SimNoiseSensor, babble_dba
from tests.unit.audio_doubles import FakePyAudioModule, tone_bytes


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def sim(clock: FakeClock | None = None, **overrides: Any) -> SimNoiseSensor:
    config = SimNoiseConfig.model_validate({"backend": "sim", "seed": 3, **overrides})
    return SimNoiseSensor("noise", config, clock=clock or FakeClock())


def write_wav(path: Path, channels: list[np.ndarray], rate: int, width: int = 2) -> Path:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(len(channels))
        wav.setsampwidth(width)
        wav.setframerate(rate)
        if width == 2:
            wav.writeframes(np.stack(channels, axis=1).astype("<i2").tobytes())
        else:
            wav.writeframes(bytes(len(channels[0]) * len(channels) * width))
    return path


def test_config_picks_the_backend_and_refuses_unknown_keys() -> None:
    adapter: TypeAdapter[Any] = TypeAdapter(noise.FAMILY.config_type)
    mic = adapter.validate_python({"family": "noise", "backend": "pyaudio", "device": "USB"})
    assert isinstance(mic, PyAudioNoiseConfig)
    assert (mic.sample_rate, mic.interval_s, mic.calibration_db) == (48000, 1.0, 120.0)
    simulated = adapter.validate_python({"backend": "sim"})
    assert isinstance(simulated, SimNoiseConfig)
    assert isinstance(simulated.source, BabbleSource)
    with pytest.raises(ValueError, match="extra"):
        adapter.validate_python({"backend": "sim", "source": {"kind": "tone", "hz": 440}})
    with pytest.raises(ValueError, match="backend"):
        adapter.validate_python({"backend": "alsa"})
    with pytest.raises(ValueError, match="calibration_db"):
        adapter.validate_python({"backend": "sim", "calibration_db": 20})


@pytest.mark.parametrize(
    ("frequency", "weighting"), [(1000, 0.0), (100, -19.1), (10000, -2.5), (4000, 1.0)]
)
async def test_sim_tone_reads_like_a_sound_level_meter(frequency: float, weighting: float) -> None:
    sensor = sim(source={"kind": "tone", "frequency_hz": frequency, "amplitude": 0.1})
    assert isinstance(sensor, Sensor)
    reading = await sensor.read()
    assert reading["noise_dba"] == pytest.approx(100.0 + weighting, abs=0.15)


async def test_sim_tone_with_noise_adds_as_powers() -> None:
    source = {"kind": "tone", "amplitude": 0.01, "noise_dbfs": -40.0}  # tone at -40 dBFS too
    assert (await sim(source=source).read())["noise_dba"] == pytest.approx(83.0, abs=0.2)


async def test_babble_follows_occupancy_and_the_model() -> None:
    sensor = sim(occupancy=0)
    empty = (await sensor.read())["noise_dba"]
    assert empty == pytest.approx(35.0, abs=0.5)  # background: ventilation and traffic
    state = await sensor.execute("set_occupancy", {"people": 32})
    assert state["occupancy"] == 32
    busy = state["noise_dba"]
    model = babble_dba(BabbleSource(kind="babble"), 32)
    assert model == pytest.approx(64.0, abs=0.1)  # 8 talkers of 55 dB(A) over 35 dB(A)
    assert busy == pytest.approx(model, abs=0.5)
    levels = []
    for people in (5, 10, 20, 40):
        sensor.set_occupancy(people)
        levels.append((await sensor.read())["noise_dba"])
    assert levels == sorted(levels)
    assert levels[-1] - levels[0] == pytest.approx(10 * math.log10(40 / 5), abs=1.0)


async def test_clock_drives_the_windows_without_waiting() -> None:
    clock = FakeClock()
    sensor = sim(clock, occupancy=25)
    first = sensor.window_pcm(0)
    assert await sensor.read() == await sensor.read()  # same window, same reading
    clock.now += 1.0
    assert not np.array_equal(sensor.window_pcm(1), first)  # a new stretch of babble
    assert (await sensor.read())["noise_dba"] == pytest.approx(
        babble_dba(BabbleSource(kind="babble"), 25), abs=0.5
    )


async def test_readings_do_not_depend_on_how_often_one_reads() -> None:
    often_clock, once_clock = FakeClock(), FakeClock()
    often, once = sim(often_clock, occupancy=30), sim(once_clock, occupancy=30)
    for _ in range(37):
        often_clock.now += 0.25
        await often.read()
    once_clock.now += 37 * 0.25
    assert await often.read() == await once.read()


async def test_sim_wav_file_is_looped_through_the_meter(tmp_path: Path) -> None:
    rate = 44100
    left = to_pcm(tone(1000, 0.1, rate, rate // 2))  # half a second, looped
    right = to_pcm(tone(100, 0.9, rate, rate // 2))  # only channel 1 is used
    path = write_wav(tmp_path / "class.wav", [left, right], rate)
    sensor = sim(source={"kind": "wav", "path": str(path)}, sample_rate=48000)
    assert sensor.sample_rate == rate  # the file's own rate wins
    assert await sensor.read() == {"noise_dba": 100.0}
    state = await sensor.state()
    assert state == {"noise_dba": 100.0, "occupancy": 0}


def test_sim_wav_errors_are_device_errors(tmp_path: Path) -> None:
    with pytest.raises(DeviceUnavailable, match="cannot read WAV"):
        sim(source={"kind": "wav", "path": str(tmp_path / "missing.wav")})
    silent = np.zeros(100, dtype=np.int16)
    eight_bit = write_wav(tmp_path / "8bit.wav", [silent], 8000, width=1)
    with pytest.raises(DeviceError, match="8-bit samples; 16-bit needed"):
        sim(source={"kind": "wav", "path": str(eight_bit)})
    empty = write_wav(tmp_path / "empty.wav", [np.zeros(0, dtype=np.int16)], 8000)
    with pytest.raises(DeviceError, match="no samples"):
        sim(source={"kind": "wav", "path": str(empty)})


async def test_sim_refuses_bad_occupancy_and_closes_twice() -> None:
    sensor = sim()
    with pytest.raises(BadCommand) as info:
        await sensor.execute("set_occupancy", {"people": -3})
    assert info.value.code == "bad_params"
    with pytest.raises(ValueError, match="negative"):
        sensor.set_occupancy(-1)
    sensor.close()
    sensor.close()


# One contract for every backend: a 1 kHz tone at -20 dBFS reads 100.0 dB(A) by default.

Feeder = Callable[[], None]
NoiseSensor = SimNoiseSensor | MicrophoneNoiseSensor


@pytest.fixture(params=["sim", "pyaudio"])
async def tone_sensor(request: pytest.FixtureRequest) -> AsyncIterator[tuple[NoiseSensor, Feeder]]:
    if request.param == "sim":
        yield sim(source={"kind": "tone", "amplitude": 0.1}), lambda: None
        return
    module = FakePyAudioModule()
    mic = MicrophoneNoiseSensor(
        "noise", PyAudioNoiseConfig(backend="pyaudio"), pyaudio_module=module
    )
    yield mic, lambda: module.stream.feed(tone_bytes(0.1, 1.0))
    module.stream.end()
    mic.close()


async def test_every_backend_reads_a_tone_the_same(tone_sensor: tuple[NoiseSensor, Feeder]) -> None:
    sensor, feed = tone_sensor
    assert sensor.family == "noise"
    assert isinstance(sensor, Sensor)
    feed()
    assert await sensor.read() == {"noise_dba": 100.0}
    assert (await sensor.state())["noise_dba"] == 100.0
