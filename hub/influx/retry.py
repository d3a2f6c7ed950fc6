"""influxdb-client's retries, made to stop when the hub does.

The batching writer retries a failed batch on its own thread with ``time.sleep`` between
attempts, for up to ``max_retry_time``; a hub that stops while InfluxDB is away would wait
that long for the thread. These retries sleep on an event instead, and once it is set they
give up at once, so the batch ends in the error callback (counted as failed).
"""

from __future__ import annotations

import threading
from typing import Any, cast

from influxdb_client.client.write.retry import WritesRetry
from influxdb_client.client.write_api import WriteOptions
from urllib3.connectionpool import ConnectionPool
from urllib3.exceptions import MaxRetryError, ResponseError


class StoppableRetry(WritesRetry):
    """``WritesRetry`` whose waits end, and whose next attempt is refused, once ``stop`` is set."""

    def __init__(self, *, stop: threading.Event, **kw: Any) -> None:
        super().__init__(**kw)
        self.stop = stop

    def new(self, **kw: Any) -> StoppableRetry:
        kw.setdefault("stop", self.stop)
        new: StoppableRetry = super().new(**kw)  # type: ignore[no-untyped-call]
        return new

    def increment(self, *args: Any, **kwargs: Any) -> StoppableRetry:
        if self.stop.is_set():
            url = kwargs.get("url") or (args[1] if len(args) > 1 else None)
            error = kwargs.get("error") or ResponseError("the hub is stopping")
            raise MaxRetryError(cast(ConnectionPool, kwargs.get("_pool")), url, error)
        new: StoppableRetry = super().increment(*args, **kwargs)  # type: ignore[no-untyped-call]
        return new

    def sleep(self, response: Any = None) -> None:
        delay = None
        if self.respect_retry_after_header and response is not None:
            delay = self.get_retry_after(response)  # type: ignore[no-untyped-call]
        if delay is None:
            delay = self.get_backoff_time()  # type: ignore[no-untyped-call]
        if delay > 0:
            self.stop.wait(delay)


class StoppableWriteOptions(WriteOptions):
    """Batching write options whose retry strategy is a ``StoppableRetry`` on ``stop``."""

    def __init__(self, *, stop: threading.Event, **kw: Any) -> None:
        super().__init__(**kw)
        self.stop = stop

    def to_retry_strategy(self, **kwargs: Any) -> StoppableRetry:
        return StoppableRetry(
            stop=self.stop,
            total=self.max_retries,
            retry_interval=self.retry_interval / 1_000,
            jitter_interval=self.jitter_interval / 1_000,
            max_retry_delay=self.max_retry_delay / 1_000,
            max_retry_time=self.max_retry_time / 1_000,
            exponential_base=self.exponential_base,
            retry_callback=kwargs.get("retry_callback"),
            allowed_methods=["POST"],
        )


__all__ = ["StoppableRetry", "StoppableWriteOptions"]
