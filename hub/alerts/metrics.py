"""The alerts' numbers for the hub's Prometheus metrics (a source for ``HubMetrics``)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from hub.alerts.kinds import SEVERITIES
from hub.alerts.service import AlertService
from hub.metrics import PREFIX, Source


def alert_source(service: AlertService) -> Source:
    """Active alerts per severity (read from the database at each scrape), judgements, the
    webhook's notifications by outcome and its queue, the help answers waiting."""

    def collect() -> Iterator[Metric]:
        active = GaugeMetricFamily(
            f"{PREFIX}_alerts_active", "Open or acknowledged alerts.", labels=["severity"]
        )
        counts = service.store.active_counts()
        for severity in SEVERITIES:
            active.add_metric([severity], counts.get(severity, 0))
        yield active
        st = service.stats
        for name, doc, value in (
            ("alert_transitions", "Alert transitions (raised, repeated, ...).", st.transitions),
            ("alert_judgements", "Times the rooms were judged.", st.judgements),
            ("alert_errors", "Judgements (or notifications) that failed.", st.errors),
            (
                "alert_events_dropped",
                "Help events dropped: their queue was full.",
                st.events_dropped,
            ),
        ):
            yield CounterMetricFamily(f"{PREFIX}_{name}", doc, value=value)
        if service.help is not None:
            yield GaugeMetricFamily(
                f"{PREFIX}_help_answers_pending",
                "Answers to rooms' help requests not yet published.",
                value=service.help.pending,
            )
            yield CounterMetricFamily(
                f"{PREFIX}_help_answers", "Answers published to rooms.", value=service.help.sent
            )
            yield CounterMetricFamily(
                f"{PREFIX}_help_answer_failures",
                "Publishes of an answer that failed (tried again).",
                value=service.help.failures,
            )
        hook = service.webhook
        if hook is not None:
            sent = CounterMetricFamily(
                f"{PREFIX}_webhook_notifications",
                "Alert notifications, by outcome.",
                labels=["outcome"],
            )
            for outcome, value in (
                ("sent", hook.stats.sent),
                ("failed", hook.stats.failed),
                ("dropped", hook.stats.dropped),
            ):
                sent.add_metric([outcome], value)
            yield sent
            yield CounterMetricFamily(
                f"{PREFIX}_webhook_retries",
                "Webhook attempts after a failed one.",
                value=hook.stats.retries,
            )
            yield GaugeMetricFamily(
                f"{PREFIX}_webhook_queued", "Notifications waiting to be sent.", value=hook.queued
            )

    return collect


__all__ = ["alert_source"]
