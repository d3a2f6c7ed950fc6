"""The InfluxDB export: a batch observer of the ingest that never blocks it.

``observe`` runs on the event loop after each committed batch: it turns the messages into
points (``hub.influx.lines``), keeps the backlog bounded, and hands the points to a thread
of its own, which feeds influxdb-client's batching writer. The writer batches, writes and
retries on its own threads and reports each batch through callbacks, which keep the
counters. Nothing here waits for InfluxDB on the loop.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

from influxdb_client.client.influxdb_client import InfluxDBClient
from influxdb_client.domain.write_precision import WritePrecision
from reactivex.scheduler import ThreadPoolScheduler

from hub.influx.config import InfluxConfig
from hub.influx.lines import PRECISION, lines_of
from hub.influx.retry import StoppableWriteOptions
from hub.influx.stats import InfluxStats
from hub.parsing import Parsed
from protocol import utcnow
from protocol.bounds import safe_text

logger = logging.getLogger(__name__)

LOSS_WINDOW_S = 60.0
"""Points dropped or failed count as a problem of the hub for this long after the last."""
LOG_EVERY_S = 60.0
"""Least time between two warnings about dropped points, and between two about failed ones."""
RETRY_DELAY_MAX_S = 60.0
"""Longest wait between two attempts at one batch (the waits double up to it)."""
RETRIES_MAX = 10_000
"""Attempts are bounded by ``retry_max_s``, not by their number."""


class InfluxExporter:
    """Writes telemetry, device states, events and the agents' status and health to InfluxDB."""

    def __init__(
        self, config: InfluxConfig, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.config = config
        self.stats = InfluxStats()
        self._clock = clock
        self._open = True
        self._last_drop_log = self._last_fail_log = -LOG_EVERY_S
        self._stop = threading.Event()
        self._scheduler = ThreadPoolScheduler(1)
        self._client = InfluxDBClient(
            url=config.url,
            token=config.token,
            org=config.org,
            timeout=int(config.timeout_s * 1000),
        )
        options = StoppableWriteOptions(
            stop=self._stop,
            batch_size=config.batch_size,
            flush_interval=config.flush_interval_ms,
            retry_interval=int(config.retry_interval_s * 1000),
            max_retries=RETRIES_MAX,
            max_retry_delay=int(max(RETRY_DELAY_MAX_S, config.retry_interval_s) * 1000),
            max_retry_time=int(config.retry_max_s * 1000),
            max_close_wait=int(config.stop_deadline_s * 1000),
            write_scheduler=self._scheduler,
        )
        self._writer = self._client.write_api(
            write_options=options,
            success_callback=self._written,
            error_callback=self._failed,
            retry_callback=self._retried,
        )
        self._handoff = ThreadPoolExecutor(1, thread_name_prefix="hub-influx")

    # --- on the event loop -------------------------------------------------------------

    def observe(self, batch: Sequence[Parsed]) -> None:
        """A ``BatchObserver``: convert, bound and hand over the batch; returns at once."""
        if not self._open:
            return
        points: list[str] = []
        retimed = 0
        for parsed in batch:
            try:
                lines = lines_of(parsed)
            except Exception:  # a bug in one conversion must not cost the batch
                self.stats.unconverted += 1
                logger.exception("InfluxDB export: cannot convert a message of %s", parsed.agent)
                continue
            points.extend(lines)
            if lines and parsed.skew_s is not None:
                retimed += 1
        self.stats.retimed += retimed
        if not points:
            return
        room = max(self.config.backlog_max - self.stats.backlog, 0)
        if len(points) > room:
            self._drop(len(points) - room)
            del points[room:]
        if points:
            with self.stats.lock:
                self.stats.handed += len(points)
            self._handoff.submit(self._hand, points)

    def _drop(self, count: int) -> None:
        now = self._clock()
        with self.stats.lock:
            self.stats.dropped += count
            self.stats.last_loss_at = now
        if now - self._last_drop_log >= LOG_EVERY_S:
            self._last_drop_log = now
            logger.warning(
                "InfluxDB export: backlog full (%d points waiting for %s); %d points dropped "
                "in all", self.stats.backlog, self.config.safe_url, self.stats.dropped,
            )  # fmt: skip

    def problems(self, now: float | None = None) -> list[str]:
        """What is wrong with the export now, in the words of the hub's health."""
        now = self._clock() if now is None else now
        st = self.stats
        out: list[str] = []
        if st.failing:
            out.append(
                f"InfluxDB export failing: {st.backlog} points waiting, retried ({st.last_error})"
            )
        if st.last_loss_at is not None and now - st.last_loss_at < LOSS_WINDOW_S:
            ago = now - st.last_loss_at
            out.append(
                f"InfluxDB export losing points: {st.dropped} dropped (backlog full at "
                f"{self.config.backlog_max}), {st.failed} failed, the last {ago:.0f} s ago"
            )
        return out

    def snapshot(self) -> dict[str, Any]:
        """The counters and where they go, for the health endpoint."""
        st = self.stats
        return {
            "url": self.config.safe_url,
            "bucket": self.config.bucket,
            "handed": st.handed,
            "written": st.written,
            "failed": st.failed,
            "dropped": st.dropped,
            "backlog": st.backlog,
            "backlog_max": self.config.backlog_max,
            "retries": st.retries,
            "retimed": st.retimed,
            "unconverted": st.unconverted,
            "failing": st.failing,
            "last_error": st.last_error,
            "last_written_at": st.last_written_at,
        }

    async def stop(self) -> None:
        """Flush what is waiting within ``stop_deadline_s``, then give up on the rest."""
        if not self._open:
            return
        self._open = False
        await asyncio.to_thread(self._close)

    # --- on the export's threads ---------------------------------------------------------

    def _hand(self, points: list[str]) -> None:
        try:
            precision = cast(WritePrecision, PRECISION)  # the library's "enum" is plain strings
            self._writer.write(self.config.bucket, self.config.org, points, precision)
        except Exception as exc:  # the writer is gone: these points will never be written
            self._failed(None, "\n".join(points), exc)

    def _written(self, _conf: Any, data: bytes | str) -> None:
        count = _points_in(data)
        recovered = False
        with self.stats.lock:
            self.stats.written += count
            self.stats.last_written_at = utcnow()
            recovered, self.stats.failing = self.stats.failing, False
        if recovered:
            logger.info("InfluxDB export: writing to %s again", self.config.safe_url)

    def _failed(self, _conf: Any, data: bytes | str, exc: BaseException) -> None:
        count = _points_in(data)
        now = self._clock()
        with self.stats.lock:
            self.stats.failed += count
            self.stats.failing = True
            self.stats.last_loss_at = self.stats.last_error_at = now
            self.stats.last_error = safe_text(exc, 300)
            loud = now - self._last_fail_log >= LOG_EVERY_S
            if loud:
                self._last_fail_log = now
        if loud:
            logger.warning(
                "InfluxDB export: %d points given up (%s); %d failed in all",
                count, safe_text(exc, 300), self.stats.failed,
            )  # fmt: skip

    def _retried(self, _conf: Any, _data: bytes | str, exc: BaseException) -> None:
        with self.stats.lock:
            self.stats.retries += 1
            self.stats.last_error_at = self._clock()
            self.stats.last_error = safe_text(exc, 300)
            started, self.stats.failing = not self.stats.failing, True
        if started:
            logger.warning(
                "InfluxDB export: writing to %s failed (%s); retrying",
                self.config.safe_url, safe_text(exc, 300),
            )  # fmt: skip

    def _close(self) -> None:
        self._handoff.shutdown(wait=True)  # every point handed over reaches the writer
        self._writer.close()  # type: ignore[no-untyped-call]  # flushes; waits at most stop_deadline_s
        self._stop.set()  # a batch still being retried gives up now
        self._scheduler.executor.shutdown(wait=False, cancel_futures=True)
        self._client.close()  # type: ignore[no-untyped-call]
        if self.stats.backlog:
            logger.warning(
                "InfluxDB export: %d points not written to %s when the hub stopped",
                self.stats.backlog, self.config.safe_url,
            )  # fmt: skip


def _points_in(data: bytes | str) -> int:
    """Points in a batch body: one a line (strings in points never hold a newline)."""
    if isinstance(data, str):
        return data.count("\n") + 1
    return data.count(b"\n") + 1


__all__ = ["LOSS_WINDOW_S", "InfluxExporter"]
