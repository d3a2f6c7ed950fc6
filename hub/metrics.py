"""The hub's metrics in Prometheus' text format (``GET /metrics``, for IT's token).

Two kinds: histograms observed as work happens (ingest batch sizes, the time to store a
batch), and everything else read at scrape time from the counters the hub keeps anyway
(ingest, commands, the audit log, and whatever a part registers with ``add_source``:
alerts open, webhook and InfluxDB backlogs). Each hub app has its own registry, so
several apps in one process (tests) never mix their numbers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from hub.api.deps import HubState
    from hub.influx.stats import InfluxStats

logger = logging.getLogger(__name__)

PREFIX = "smartclass_hub"
Source = Callable[[], Iterable[Metric]]


class _Sources(Collector):
    def __init__(self) -> None:
        self.sources: list[Source] = []
        self.failures = 0

    def collect(self) -> Iterator[Metric]:
        for source in list(self.sources):
            try:
                yield from source()
            except Exception:  # one broken source must not take the others with it
                self.failures += 1
                logger.exception("metrics source %r failed", source)


class HubMetrics:
    """One hub's metrics registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.batch_size = Histogram(
            f"{PREFIX}_ingest_batch_messages",
            "Messages per ingest batch (one database transaction).",
            buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000),
            registry=self.registry,
        )
        self.store_seconds = Histogram(
            f"{PREFIX}_ingest_store_seconds",
            "Time to store one ingest batch, retries while the database was away included.",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self._sources = _Sources()
        self.registry.register(self._sources)

    def add_source(self, source: Source) -> None:
        """Read ``source()`` at every scrape; it yields metric families (never raises far:
        a failure is logged and the rest of the scrape goes on)."""
        self._sources.sources.append(source)

    def render(self) -> bytes:
        return generate_latest(self.registry)


def _counter(name: str, doc: str, value: float, **labels: str) -> CounterMetricFamily:
    family = CounterMetricFamily(f"{PREFIX}_{name}", doc, labels=list(labels))
    family.add_metric(list(labels.values()), value)
    return family


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"{PREFIX}_{name}", doc, value=value)


def hub_source(hub: HubState) -> Source:
    """The hub's own counters: ingest, MQTT, commands, dead letters, the audit log."""

    def collect() -> Iterator[Metric]:
        ingest = hub.ingest
        if ingest is not None:
            st = ingest.stats
            messages = CounterMetricFamily(
                f"{PREFIX}_ingest_messages",
                "Messages the ingest handled, by outcome.",
                labels=["outcome"],
            )
            for outcome, value in (
                ("received", st.received),
                ("stored", st.stored),
                ("duplicate", st.duplicates),
                ("conflict", st.conflicts),
                ("dead_letter", st.dead_letters),
                ("dropped_overload", st.overload_dropped),
            ):
                messages.add_metric([outcome], value)
            yield messages
            dead = CounterMetricFamily(
                f"{PREFIX}_dead_letters", "Dead letters by reason.", labels=["reason"]
            )
            for reason, value in sorted(st.dead_letters_by_reason.items()):
                dead.add_metric([reason], value)
            yield dead
            yield _counter("ingest_points", "Telemetry points newly stored.", st.points)
            yield _counter("ingest_events", "Events newly stored.", st.events)
            yield _counter("ingest_batches", "Ingest batches written.", st.batches)
            yield _counter(
                "ingest_write_errors", "Batch writes that failed and were retried.", st.write_errors
            )
            yield _counter(
                "ingest_observer_errors", "Batch observers that raised.", st.observer_errors
            )
            yield _counter("acks_sent", "Acknowledgements sent to agents.", st.acks_sent)
            yield _counter("mqtt_connects", "Connections made to the broker.", st.connects)
            yield _gauge("ingest_pending", "Messages received and not yet stored.", ingest.pending)
            yield _gauge(
                "mqtt_connected", "1 while connected to the broker.", float(ingest.connected)
            )
            yield _gauge(
                "database_failing", "1 while batch writes are failing.", float(st.db_failing)
            )
        commands = CounterMetricFamily(
            f"{PREFIX}_commands", "Commands sent to agents, by outcome.", labels=["outcome"]
        )
        for outcome, value in sorted(hub.commander.outcomes.items()):
            commands.add_metric([outcome], value)
        yield commands
        yield _counter(
            "forged_replies", "Replies from another room than asked.", hub.commander.forged_replies
        )
        yield _gauge("commands_waiting", "Commands waiting for a reply.", hub.commander.waiting)
        if hub.enroller is not None:
            enrolments = CounterMetricFamily(
                f"{PREFIX}_enrolments", "Enrolments from photos through the hub, by result.",
                labels=["result"],
            )  # fmt: skip
            for result, value in sorted(hub.enroller.results.items()):
                enrolments.add_metric([result], value)
            yield enrolments
        yield _counter("audit_entries", "Audit entries written.", hub.audit.written)
        yield _counter(
            "audit_failures", "Audit entries that could not be written.", hub.audit.failed
        )
        yield _counter("login_refused", "Sign-ins refused by the limit.", hub.limiter.refused)

    return collect


def influx_source(stats: InfluxStats) -> Source:
    """The InfluxDB export: points by outcome and the backlog waiting to be written."""

    def collect() -> Iterator[Metric]:
        points = CounterMetricFamily(
            f"{PREFIX}_influx_points",
            "Points of the InfluxDB export, by outcome.",
            labels=["outcome"],
        )
        for outcome in ("handed", "written", "failed", "dropped", "retimed"):
            points.add_metric([outcome], getattr(stats, outcome))
        yield points
        yield _counter("influx_retries", "InfluxDB writes tried again.", stats.retries)
        yield _gauge("influx_backlog", "Points waiting to be written to InfluxDB.", stats.backlog)
        yield _gauge("influx_failing", "1 while writes to InfluxDB fail.", float(stats.failing))

    return collect


__all__ = ["HubMetrics", "Source", "hub_source", "influx_source"]
