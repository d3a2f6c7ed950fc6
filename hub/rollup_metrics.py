"""The usage rollups' numbers for the hub's Prometheus metrics (a source for ``HubMetrics``)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, Metric

from hub.metrics import PREFIX, Source
from hub.rollups import UsageRollups


def rollup_source(rollups: UsageRollups) -> Source:
    """Samples rolled up, hourly rows written, and batches whose rollups failed."""

    def collect() -> Iterator[Metric]:
        for name, doc, value in (
            ("rollup_samples", "Telemetry samples added to the usage rollups.", rollups.samples),
            ("rollup_rows", "Hourly usage rows written (added to).", rollups.rows),
            (
                "rollup_errors",
                "Batches whose usage rollups failed: stored, their usage not counted.",
                rollups.errors,
            ),
        ):
            yield CounterMetricFamily(f"{PREFIX}_{name}", doc, value=value)

    return collect


__all__ = ["rollup_source"]
