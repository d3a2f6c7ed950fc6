"""Noise level (LAeq, dB(A)) of a microphone read through PyAudio on a capture thread."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import threading
import time
from collections.abc import Mapping
from typing import Any, Protocol

from devices.base import Action, Clock, Device, DeviceError, DeviceTimeout, DeviceUnavailable
from devices.noise.config import PyAudioNoiseConfig
from devices.noise.meter import LevelMeter
from protocol.aio import wait_within

logger = logging.getLogger(__name__)


class CaptureStream(Protocol):
    """The part of a PyAudio input stream the driver uses."""

    def read(self, num_frames: int, exception_on_overflow: bool = True) -> bytes: ...

    def stop_stream(self) -> None: ...

    def close(self) -> None: ...


def import_pyaudio(device_id: str) -> Any:
    """Import PyAudio, or explain how to install it."""
    try:
        return importlib.import_module("pyaudio")
    except ImportError as exc:
        msg = (
            f"noise {device_id!r}: PyAudio is not installed; on Raspberry Pi OS/Debian run "
            "'apt-get install portaudio19-dev' then 'pip install pyaudio' in the venv "
            "(or apt-get install python3-pyaudio for the system Python)"
        )
        raise DeviceUnavailable(msg) from exc


class MicrophoneNoiseSensor(Device):
    """LAeq of a PyAudio capture stream, measured on a worker thread.

    One thread owns PyAudio: it opens the stream, does the blocking reads, feeds a
    LevelMeter and hands each window's level to the event loop with
    ``call_soon_threadsafe``. ``read()`` returns the latest level at once; it waits
    (bounded) only for the first one. The thread starts on the first ``read()`` or
    ``start()``; ``close()`` stops it after its current read (one buffer).
    """

    family = "noise"

    def __init__(
        self,
        device_id: str,
        config: PyAudioNoiseConfig,
        *,
        pyaudio_module: Any = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(device_id)
        self.config = config
        self._pyaudio = pyaudio_module if pyaudio_module is not None else import_pyaudio(device_id)
        self._clock = clock or time.monotonic
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._fresh = asyncio.Event()
        self._level: float | None = None
        self._level_at = 0.0
        self._levels = 0
        self._failure: tuple[type[DeviceError], str, BaseException] | None = None
        self._closed = False
        self.device_name: str | None = None
        """Name of the capture device once the stream is open."""

    @property
    def actions(self) -> Mapping[str, Action]:
        return {}

    @property
    def levels_measured(self) -> int:
        """How many levels have reached the event loop so far."""
        return self._levels

    async def start(self) -> None:
        """Start the capture thread (once); later calls do nothing."""
        if self._closed:
            msg = f"noise {self.id!r} is closed"
            raise DeviceUnavailable(msg)
        if self._thread is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._run, name=f"noise-{self.id}", daemon=True)
        self._thread.start()

    async def read(self) -> dict[str, float]:
        await self.start()
        if self._level is None and self._failure is None:
            await self._wait_fresh(self.config.interval_s + self.config.timeout_s)
        self._raise_failure()
        assert self._level is not None
        age = self._clock() - self._level_at
        if age > self.config.interval_s + self.config.timeout_s:
            msg = f"noise {self.id!r}: no level from the microphone for {age:.1f} s"
            raise DeviceTimeout(msg)
        return {"noise_dba": round(self._level, 1)}

    async def next_level(self, timeout: float) -> float:
        """Wait for the next window's level (in dB) and return it."""
        await self.start()
        self._raise_failure()
        await self._wait_fresh(timeout)
        self._raise_failure()
        assert self._level is not None
        return self._level

    @property
    def streaming(self) -> bool:
        """True while the capture thread runs and has not failed."""
        running = self._thread is not None and self._thread.is_alive()
        return running and self._failure is None and not self._closed

    async def state(self) -> dict[str, Any]:
        level = None if self._level is None else round(self._level, 1)
        return {"noise_dba": level, "streaming": self.streaming}

    async def _wait_fresh(self, timeout: float) -> None:
        try:
            await wait_within(self._fresh.wait(), timeout)
        except TimeoutError as exc:
            msg = f"noise {self.id!r}: no level from the microphone within {timeout:g} s"
            raise DeviceTimeout(msg) from exc

    def _raise_failure(self) -> None:
        if self._failure is not None:
            kind, msg, cause = self._failure
            raise kind(msg) from cause

    # Loop side: called through call_soon_threadsafe only.

    def _deliver(self, level: float) -> None:
        self._level = level
        self._level_at = self._clock()
        self._levels += 1
        self._wake()

    def _fail(self, kind: type[DeviceError], msg: str, cause: BaseException) -> None:
        if self._failure is None:
            logger.warning("%s", msg)
            self._failure = (kind, msg, cause)
        self._wake()

    def _wake(self) -> None:
        fresh, self._fresh = self._fresh, asyncio.Event()
        fresh.set()

    # Capture thread.

    def _hand_off(self, callback: Any, *args: Any) -> None:
        assert self._loop is not None
        try:
            self._loop.call_soon_threadsafe(callback, *args)
        except RuntimeError:  # the loop is closed: nobody is listening any more
            self._stop.set()

    def _run(self) -> None:
        try:
            self._capture()
        except DeviceUnavailable as exc:
            self._hand_off(self._fail, DeviceUnavailable, str(exc), exc.__cause__ or exc)
        except (OSError, ValueError) as exc:  # PyAudio raises OSError for PortAudio errors
            msg = f"noise {self.id!r}: microphone failed: {exc}"
            self._hand_off(self._fail, DeviceUnavailable, msg, exc)
        except Exception as exc:
            msg = f"noise {self.id!r}: capture stopped: {exc!r}"
            self._hand_off(self._fail, DeviceError, msg, exc)

    def _capture(self) -> None:
        cfg = self.config
        meter = LevelMeter(cfg.sample_rate, cfg.interval_s, cfg.calibration_db)
        audio = self._pyaudio.PyAudio()
        try:
            index = self._resolve_device(audio)
            stream: CaptureStream = audio.open(
                format=self._pyaudio.paInt16,
                channels=1,
                rate=cfg.sample_rate,
                input=True,
                input_device_index=index,
                frames_per_buffer=cfg.frames_per_buffer,
            )
            logger.info(
                "noise %s: capturing from %r at %d Hz", self.id, self.device_name, cfg.sample_rate
            )
            try:
                while not self._stop.is_set():
                    pcm = stream.read(cfg.frames_per_buffer, exception_on_overflow=False)
                    for level in meter.feed(pcm):
                        self._hand_off(self._deliver, level)
            finally:
                with contextlib.suppress(OSError):  # a lost device may refuse; keep its error
                    stream.stop_stream()
                with contextlib.suppress(OSError):
                    stream.close()
        finally:
            audio.terminate()

    def _resolve_device(self, audio: Any) -> int:
        wanted = self.config.device
        if wanted is None:
            try:
                info = audio.get_default_input_device_info()
            except OSError as exc:
                msg = f"noise {self.id!r}: no default input device (is a microphone plugged in?)"
                raise DeviceUnavailable(msg) from exc
        elif isinstance(wanted, int):
            try:
                info = audio.get_device_info_by_index(wanted)
            except (OSError, ValueError) as exc:
                msg = f"noise {self.id!r}: no audio device {wanted}"
                raise DeviceUnavailable(msg) from exc
        else:
            inputs = [audio.get_device_info_by_index(i) for i in range(audio.get_device_count())]
            inputs = [d for d in inputs if d.get("maxInputChannels", 0) > 0]
            matches = [d for d in inputs if wanted.lower() in str(d.get("name", "")).lower()]
            if not matches:
                names = ", ".join(repr(d.get("name")) for d in inputs) or "none"
                msg = f"noise {self.id!r}: no input device named like {wanted!r} (inputs: {names})"
                raise DeviceUnavailable(msg)
            info = matches[0]
        if info.get("maxInputChannels", 0) < 1:
            msg = f"noise {self.id!r}: audio device {info.get('name')!r} has no input"
            raise DeviceUnavailable(msg)
        self.device_name = str(info.get("name"))
        return int(info["index"])

    def close(self) -> None:
        """Stop capturing; waits at most one buffer (plus a second) for the thread."""
        self._closed = True
        self._stop.set()
        thread = self._thread
        if thread is None or thread is threading.current_thread():
            return
        thread.join(self.config.frames_per_buffer / self.config.sample_rate + 1.0)
        if thread.is_alive():
            logger.warning("noise %s: capture thread still blocked in a read", self.id)


__all__ = ["CaptureStream", "MicrophoneNoiseSensor", "import_pyaudio"]
