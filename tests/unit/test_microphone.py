"""The PyAudio noise sensor: capture thread, hand-off to the loop, device lookup and failures."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from devices.base import DeviceTimeout, DeviceUnavailable, Sensor
from devices.noise.config import PyAudioNoiseConfig
from devices.noise.meter import to_pcm, tone
from devices.noise.microphone import MicrophoneNoiseSensor
from protocol.aio import wait_within
from tests.unit.audio_doubles import FakePyAudioModule, FakeStream, device, silence, tone_bytes

REPO = Path(__file__).resolve().parents[2]


class FakeClock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


def make(module: FakePyAudioModule, clock: FakeClock | None = None, **overrides: Any) -> Any:
    config = PyAudioNoiseConfig.model_validate({"backend": "pyaudio", **overrides})
    return MicrophoneNoiseSensor("mic", config, pyaudio_module=module, clock=clock)


@pytest.fixture
def module() -> FakePyAudioModule:
    return FakePyAudioModule()


@pytest.fixture
async def mic(module: FakePyAudioModule) -> AsyncIterator[MicrophoneNoiseSensor]:
    sensor = make(module, device="usb")
    yield sensor
    module.stream.end()  # let a blocked read return so the thread sees the stop
    sensor.close()
    assert not sensor.streaming


async def test_levels_come_from_a_capture_thread_to_the_loop(
    mic: MicrophoneNoiseSensor, module: FakePyAudioModule
) -> None:
    assert isinstance(mic, Sensor)
    module.stream.feed(tone_bytes(0.1, 1.0))
    assert await mic.read() == {"noise_dba": 100.0}  # 1 kHz at -20 dBFS, 0 dBFS = 120 dB
    assert module.opened == [
        {
            "format": 8,
            "channels": 1,
            "rate": 48000,
            "input": True,
            "input_device_index": 1,
            "frames_per_buffer": 4800,
        }
    ]
    assert mic.device_name == "USB PnP Sound Device"
    assert set(module.stream.reads) == {(4800, False)}
    assert threading.get_ident() not in module.stream.reader_threads
    assert await mic.state() == {"noise_dba": 100.0, "streaming": True}


async def test_each_window_gives_one_level_in_order(
    mic: MicrophoneNoiseSensor, module: FakePyAudioModule
) -> None:
    await mic.start()
    levels = []
    for amplitude in (0.01, 0.02, 0.04):
        waiting = asyncio.ensure_future(mic.next_level(timeout=10))
        module.stream.feed(tone_bytes(amplitude, 1.0))
        levels.append(await waiting)
    assert levels == pytest.approx([80.0, 86.02, 92.04], abs=0.01)
    assert mic.levels_measured == 3


async def test_read_returns_the_latest_level_while_the_thread_waits_for_audio(
    mic: MicrophoneNoiseSensor, module: FakePyAudioModule
) -> None:
    module.stream.feed(tone_bytes(0.1, 1.0) + tone_bytes(0.1, 0.5))  # half a window more
    first = await mic.read()
    # Bounded by wait_for: a read that waited on the capture thread would time out.
    assert await wait_within(mic.read(), 1.0) == first


async def test_a_level_older_than_interval_and_timeout_is_refused(
    module: FakePyAudioModule,
) -> None:
    clock = FakeClock()
    mic = make(module, clock, interval_s=1.0, timeout_s=2.0)
    try:
        module.stream.feed(silence(1.0))
        assert await mic.read() == {"noise_dba": 0.0}  # digital silence: -120 dBFS floor
        clock.now += 2.9
        await mic.read()
        clock.now += 0.2
        with pytest.raises(DeviceTimeout, match=r"no level from the microphone for 3\.1 s"):
            await mic.read()
    finally:
        module.stream.end()
        mic.close()


async def test_no_first_level_in_time_is_a_timeout(module: FakePyAudioModule) -> None:
    mic = make(module, interval_s=0.1, timeout_s=0.05)
    try:
        with pytest.raises(DeviceTimeout, match=r"within 0\.15 s"):
            await mic.read()
    finally:
        module.stream.end()
        mic.close()


async def test_a_lost_device_is_reported_with_the_library_error(
    mic: MicrophoneNoiseSensor, module: FakePyAudioModule
) -> None:
    module.stream.feed(tone_bytes(0.1, 1.0))
    await mic.read()
    lost = OSError(-9999, "Unanticipated host error")
    module.stream.fail(lost)
    with pytest.raises(DeviceUnavailable, match="microphone failed") as info:
        await mic.next_level(timeout=10)
    assert info.value.__cause__ is lost
    with pytest.raises(DeviceUnavailable):
        await mic.read()
    assert (await mic.state())["streaming"] is False
    assert module.stream.closed
    assert module.instances[0].terminated


@pytest.mark.parametrize(
    ("devices", "default", "wanted", "match"),
    [
        ([device(0, "HDMI", inputs=0)], None, None, "no default input device"),
        ([device(0, "HDMI", inputs=0)], None, 3, "no audio device 3"),
        ([device(0, "HDMI", inputs=0)], None, 0, "'HDMI' has no input"),
        ([device(0, "HDMI", inputs=0), device(1, "Webcam")], 1, "usb", r"inputs: 'Webcam'"),
    ],
)
async def test_device_lookup_failures_are_clear(
    devices: list[dict[str, Any]], default: int | None, wanted: int | str | None, match: str
) -> None:
    module = FakePyAudioModule(devices, default)
    mic = make(module, device=wanted)
    with pytest.raises(DeviceUnavailable, match=match):
        await mic.read()
    mic.close()
    assert module.opened == []
    assert module.instances[0].terminated


async def test_default_device_and_index(module: FakePyAudioModule) -> None:
    for wanted in (None, 1):
        module.stream = FakeStream()
        mic = make(module, device=wanted, sample_rate=44100, frames_per_buffer=1024)
        module.stream.feed(tone_bytes(0.1, 1.1, rate=44100))  # 1024 does not divide 44100
        assert await mic.read() == {"noise_dba": 100.0}
        module.stream.end()
        mic.close()
        assert module.opened[-1]["input_device_index"] == 1
        assert module.opened[-1]["rate"] == 44100


async def test_close_stops_the_thread_and_is_safe_twice(module: FakePyAudioModule) -> None:
    mic = make(module)
    mic.close()  # never started
    mic = make(module)
    module.stream.feed(silence(1.0))
    await mic.read()
    module.stream.end()
    mic.close()
    mic.close()
    assert not mic.streaming
    assert module.stream.stopped
    assert module.stream.closed
    assert module.instances[-1].terminated
    with pytest.raises(DeviceUnavailable, match="closed"):
        await mic.read()


def test_missing_pyaudio_is_a_clear_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyaudio", None)  # import pyaudio now raises ImportError
    config = PyAudioNoiseConfig(backend="pyaudio")
    with pytest.raises(DeviceUnavailable, match=r"PyAudio is not installed.*portaudio19-dev"):
        MicrophoneNoiseSensor("mic", config)


def test_config_refuses_unknown_keys() -> None:
    with pytest.raises(ValueError, match="extra"):
        PyAudioNoiseConfig.model_validate({"backend": "pyaudio", "gain": 3})


# A capture device that ALSA itself provides from a file: PortAudio lists it like a sound
# card, so the real PyAudio and PortAudio code runs, with no hardware.
ASOUNDRC = """
pcm.smartclass_file_mic {
    type file
    slave.pcm "null"
    file "/dev/null"
    infile "%s"
    format "raw"
}
"""

REAL_PYAUDIO_SCRIPT = textwrap.dedent(
    """
    import asyncio, json, pyaudio
    from devices.noise.config import PyAudioNoiseConfig
    from devices.noise.microphone import MicrophoneNoiseSensor

    async def main():
        config = PyAudioNoiseConfig(backend="pyaudio", device="smartclass_file_mic")
        mic = MicrophoneNoiseSensor("mic", config)
        try:
            level = await mic.next_level(timeout=30)
            reading = await mic.read()
        finally:
            mic.close()
        real = mic._pyaudio is pyaudio and pyaudio.PyAudio.__module__ == "pyaudio"
        print(json.dumps({"name": mic.device_name, "level": level, "reading": reading,
                          "real": real, "streaming": mic.streaming}))

    asyncio.run(main())
    """
)


def test_real_pyaudio_reads_an_alsa_capture_device(tmp_path: Path) -> None:
    pytest.importorskip("pyaudio", reason="PyAudio not installed (needs portaudio19-dev)")
    raw = tmp_path / "tone.raw"
    raw.write_bytes(to_pcm(tone(1000, 0.1, 48000, 3 * 48000)).astype("<i2").tobytes())
    (tmp_path / ".asoundrc").write_text(ASOUNDRC % raw)
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "none")}
    env.pop("ALSA_CONFIG_PATH", None)
    done = subprocess.run(
        [sys.executable, "-c", REAL_PYAUDIO_SCRIPT],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["real"] is True
    assert result["name"] == "smartclass_file_mic"
    assert result["level"] == pytest.approx(100.0, abs=0.01)
    assert result["reading"] == {"noise_dba": 100.0}
    assert result["streaming"] is False


def _capture_devices() -> list[str]:
    pyaudio = pytest.importorskip("pyaudio", reason="PyAudio not installed")
    audio = pyaudio.PyAudio()
    try:
        infos = [audio.get_device_info_by_index(i) for i in range(audio.get_device_count())]
    finally:
        audio.terminate()
    return [str(d["name"]) for d in infos if d["maxInputChannels"] > 0]


async def test_real_pyaudio_measures_this_machines_default_microphone() -> None:
    inputs = await asyncio.to_thread(_capture_devices)
    if not inputs:
        pytest.skip("no capture device on this machine: PortAudio lists no input device")
    mic = MicrophoneNoiseSensor("mic", PyAudioNoiseConfig(backend="pyaudio"))
    try:
        level = await mic.next_level(timeout=10)
    finally:
        mic.close()
    assert 0.0 <= level <= 120.0
