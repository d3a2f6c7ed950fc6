"""A stand-in for the pyaudio module: devices to list, and an input stream the test feeds."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from devices.noise.meter import to_pcm, tone


def tone_bytes(
    amplitude: float, seconds: float, frequency: float = 1000, rate: int = 48000
) -> bytes:
    """A sine as native-endian int16 bytes, as a PyAudio stream returns them."""
    return to_pcm(tone(frequency, amplitude, rate, round(rate * seconds))).tobytes()


class FakeStream:
    """Blocking ``read`` like PyAudio's: returns once enough fed frames are there."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._pending = bytearray()
        self._ended = False
        self._error: BaseException | None = None
        self.reads: list[tuple[int, bool]] = []
        self.reader_threads: set[int] = set()
        self.stopped = False
        self.closed = False

    def feed(self, pcm: bytes) -> None:
        with self._cond:
            self._pending += pcm
            self._cond.notify_all()

    def end(self) -> None:
        """From now on, reads return silence at once (a quiet room)."""
        with self._cond:
            self._ended = True
            self._cond.notify_all()

    def fail(self, error: BaseException) -> None:
        """The next read raises ``error`` (as PyAudio does when the device goes away)."""
        with self._cond:
            self._error = error
            self._cond.notify_all()

    def read(self, num_frames: int, exception_on_overflow: bool = True) -> bytes:
        self.reads.append((num_frames, exception_on_overflow))
        self.reader_threads.add(threading.get_ident())
        need = 2 * num_frames
        with self._cond:
            ready = self._cond.wait_for(
                lambda: self._error is not None or self._ended or len(self._pending) >= need,
                timeout=30,
            )
            if self._error is not None:
                raise self._error
            if not ready:
                raise OSError(-9981, "fake stream: nothing fed for 30 s")
            if len(self._pending) >= need:
                chunk = bytes(self._pending[:need])
                del self._pending[:need]
                return chunk
            return bytes(need)

    def stop_stream(self) -> None:
        self.stopped = True

    def close(self) -> None:
        self.closed = True


def device(index: int, name: str, inputs: int = 2) -> dict[str, Any]:
    return {"index": index, "name": name, "maxInputChannels": inputs, "defaultSampleRate": 48000.0}


class FakePyAudio:
    """PyAudio's device listing and ``open``, answering from the module's table."""

    def __init__(self, module: FakePyAudioModule) -> None:
        self._module = module
        self.terminated = False
        module.instances.append(self)

    def get_device_count(self) -> int:
        return len(self._module.devices)

    def get_device_info_by_index(self, index: int) -> dict[str, Any]:
        if not 0 <= index < len(self._module.devices):
            raise OSError(-9996, "Invalid device index")
        return self._module.devices[index]

    def get_default_input_device_info(self) -> dict[str, Any]:
        if self._module.default is None:
            raise OSError(-9996, "No Default Input Device Available")
        return self._module.devices[self._module.default]

    def open(self, **kwargs: Any) -> FakeStream:
        self._module.opened.append(kwargs)
        return self._module.stream

    def terminate(self) -> None:
        self.terminated = True


class FakePyAudioModule:
    """What the driver uses of the ``pyaudio`` module."""

    paInt16 = 8  # noqa: N815 - pyaudio's name (and value)

    def __init__(self, devices: list[dict[str, Any]] | None = None, default: int | None = 1):
        self.devices = devices or [device(0, "HDMI", inputs=0), device(1, "USB PnP Sound Device")]
        self.default = default
        self.stream = FakeStream()
        self.instances: list[FakePyAudio] = []
        self.opened: list[dict[str, Any]] = []

    def PyAudio(self) -> FakePyAudio:  # noqa: N802 - pyaudio's name
        return FakePyAudio(self)


def silence(seconds: float, rate: int = 48000) -> bytes:
    return np.zeros(round(rate * seconds), dtype=np.int16).tobytes()


__all__ = ["FakePyAudio", "FakePyAudioModule", "FakeStream", "device", "silence", "tone_bytes"]
