"""Every metric sellbot exports, on a ``prometheus_client`` registry of its own.

Each ``Metrics`` (one per ``App``) owns a ``CollectorRegistry`` with the standard process,
platform and garbage-collector collectors (``process_resident_memory_bytes``,
``process_open_fds``, ``process_cpu_seconds_total``, ...): two apps in one process, or two
tests, never share a series. ``/metrics`` serves ``generate_latest(metrics.registry)``.

The wrappers below take labels as keywords (``metrics.job_errors.inc(job="prioritise")``);
each declares its label names once. Counters count what happened since the process started;
gauges are what is true now.
"""

from __future__ import annotations

from collections.abc import Mapping

import prometheus_client as prom
from prometheus_client import (
    GCCollector,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.registry import Collector

from bot import __version__
from bot.domain.executions import Execution

disable_created_metrics()  # type: ignore[no-untyped-call]  # no ``*_created`` series: they double the output and nobody reads them

LabelValues = tuple[str, ...]

LATENCY_BUCKETS_S = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
DURATION_BUCKETS_S = (10, 30, 60, 300, 900, 1800, 3600, 7200, 14_400, 43_200, 86_400)
SHORTFALL_BUCKETS_BPS = (-50, -10, 0, 5, 10, 25, 50, 100, 250, 500)


class _Metric:
    """What the three kinds share: a name, label names, and reading values back."""

    def __init__(self, name: str, labels: tuple[str, ...], collector: Collector) -> None:
        self.name, self.labels, self._collector = name, labels, collector

    def _value(self, sample: str, labels: Mapping[str, str]) -> float:
        """The sum of the ``sample`` series whose labels include ``labels``."""
        return sum(
            s.value
            for family in self._collector.collect()
            for s in family.samples
            if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items())
        )


class Counter(_Metric):
    """A counter: only goes up, by ``inc`` or to a total kept elsewhere (``advance_to``)."""

    kind = "counter"

    def __init__(
        self,
        registry: prom.CollectorRegistry,
        name: str,
        documentation: str,
        labels: tuple[str, ...] = (),
    ) -> None:
        if not name.endswith("_total"):
            raise ValueError(f"a counter's name ends in _total: {name}")
        self.metric = prom.Counter(name, documentation, labels, registry=registry)
        super().__init__(name, labels, self.metric)
        self._totals: dict[LabelValues, float] = {}

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        (self.metric.labels(**labels) if labels else self.metric).inc(amount)

    def advance_to(self, total: float, **labels: str) -> None:
        """Count up to ``total``, a cumulative count read from elsewhere (e.g. cache hits).

        A total below the last one seen means its source started over: it counts from 0.
        """
        key = tuple(labels[n] for n in self.labels)
        last = self._totals.get(key, 0.0)
        self.inc(total - last if total >= last else total, **labels)
        self._totals[key] = total

    def get(self, **labels: str) -> float:
        return self._value(self.name, labels)


class Gauge(_Metric):
    """A gauge: a value that is true now."""

    kind = "gauge"

    def __init__(
        self,
        registry: prom.CollectorRegistry,
        name: str,
        documentation: str,
        labels: tuple[str, ...] = (),
    ) -> None:
        self.metric = prom.Gauge(name, documentation, labels, registry=registry)
        super().__init__(name, labels, self.metric)

    def set(self, value: float, **labels: str) -> None:
        (self.metric.labels(**labels) if labels else self.metric).set(value)

    def replace(self, values: Mapping[LabelValues, float]) -> None:
        """Make ``values`` (label values in declared order → value) the only labelled series.

        A state that disappeared from the database then drops out instead of keeping its
        last count. Nothing awaits in between, so no scrape sees the gauge half written.
        """
        self.metric.clear()
        for key, value in values.items():
            self.metric.labels(*key).set(value)

    def get(self, **labels: str) -> float:
        return self._value(self.name, labels)


class Histogram(_Metric):
    """A histogram of observed values in fixed buckets."""

    kind = "histogram"

    def __init__(
        self,
        registry: prom.CollectorRegistry,
        name: str,
        documentation: str,
        buckets: tuple[float, ...],
        labels: tuple[str, ...] = (),
    ) -> None:
        self.metric = prom.Histogram(
            name, documentation, labels, registry=registry, buckets=buckets
        )
        super().__init__(name, labels, self.metric)

    def observe(self, value: float, **labels: str) -> None:
        (self.metric.labels(**labels) if labels else self.metric).observe(value)

    def count(self, **labels: str) -> float:
        return self._value(f"{self.name}_count", labels)


class Metrics:
    """Every metric sellbot exports, on ``registry``."""

    def __init__(self) -> None:
        r = self.registry = prom.CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=r)  # process_resident_memory_bytes, process_open_fds, CPU
        PlatformCollector(registry=r)
        GCCollector(registry=r)
        self.info = Gauge(r, "sellbot_build_info", "Always 1; the running version", ("version",))
        self.info.set(1.0, version=__version__)
        # executions
        self.executions = Counter(
            r,
            "sellbot_executions_total",
            "Finished executions by strategy and outcome",
            ("strategy", "outcome"),
        )
        self.shortfall = Histogram(
            r,
            "sellbot_shortfall_bps",
            "Implementation shortfall of finished executions, bps",
            SHORTFALL_BUCKETS_BPS,
            ("strategy",),
        )
        self.execution_duration = Histogram(
            r,
            "sellbot_execution_duration_seconds",
            "Wall time of finished executions, from start to end",
            DURATION_BUCKETS_S,
            ("strategy", "outcome"),
        )
        self.running = Gauge(r, "sellbot_executions_running", "Executions running now")
        self.order_states = Gauge(
            r, "sellbot_orders", "Orders in the database by state", ("state",)
        )
        self.execution_states = Gauge(
            r,
            "sellbot_executions_by_state",
            "Executions in the database by strategy and state",
            ("strategy", "state"),
        )
        # the exchange
        self.request_latency = Histogram(
            r,
            "sellbot_exchange_request_seconds",
            "Exchange request latency by endpoint",
            LATENCY_BUCKETS_S,
            ("endpoint",),
        )
        self.request_errors = Counter(
            r,
            "sellbot_exchange_errors_total",
            "Exchange request errors by endpoint and kind",
            ("endpoint", "error"),
        )
        self.exchange_blocked = Counter(
            r,
            "sellbot_exchange_blocked_total",
            "Jobs stopped by a block page, by job and reason",
            ("job", "reason"),
        )
        self.cache_requests = Counter(
            r,
            "sellbot_cache_requests_total",
            "Market-data cache lookups by cache and outcome (hit or miss)",
            ("cache", "outcome"),
        )
        self.cache_entries = Gauge(
            r, "sellbot_cache_entries", "Entries held in each market-data cache", ("cache",)
        )
        # the daemon
        self.cycles = Counter(
            r, "sellbot_cycles_total", "Prioritisation cycles by outcome", ("outcome",)
        )
        self.llm_calls = Counter(
            r,
            "sellbot_llm_calls_total",
            "Advisor calls by advisor and outcome",
            ("advisor", "outcome"),
        )
        self.job_errors = Counter(
            r, "sellbot_job_errors_total", "Scheduler jobs that raised", ("job",)
        )
        self.paused = Gauge(r, "sellbot_paused", "1 when the kill switch is on")
        self.leader = Gauge(r, "sellbot_leader", "1 while this daemon holds the leader lease")
        self.lease_epoch = Gauge(
            r, "sellbot_lease_epoch", "Epoch of the leader lease this daemon holds (0: none)"
        )
        # the WebSocket stream
        self.stream_connected = Gauge(
            r, "sellbot_stream_connected", "1 while the public WebSocket stream is connected"
        )
        self.stream_ready = Gauge(
            r,
            "sellbot_stream_ready",
            "1 while /readyz counts the stream ready (down < grace); 0 also with no stream",
        )
        self.stream_last_message_age = Gauge(
            r,
            "sellbot_stream_last_message_age_seconds",
            "Seconds since the public WebSocket stream's last message",
        )
        self.stream_bad_messages = Counter(
            r, "sellbot_stream_bad_messages_total", "WebSocket messages that did not parse or apply"
        )
        self.stream_reconnects = Counter(
            r, "sellbot_stream_reconnects_total", "Public WebSocket stream reconnections"
        )
        self.stream_books_polled = Gauge(
            r,
            "sellbot_stream_books_polled",
            "Markets whose books come from REST: the stream sent none by its timeout",
        )
        # notifications
        self.notify_queue_depth = Gauge(
            r, "sellbot_notify_queue_depth", "Notifications waiting to be sent"
        )
        self.notify_dropped = Counter(
            r,
            "sellbot_notify_dropped_total",
            "Notifications dropped: the queue was full or every retry failed",
        )

    def all(self) -> list[Counter | Gauge | Histogram]:
        return [v for v in vars(self).values() if isinstance(v, Counter | Gauge | Histogram)]

    def render(self) -> str:
        """The Prometheus text exposition of every metric, as ``/metrics`` serves it."""
        return generate_latest(self.registry).decode("utf-8")


def record_finished(metrics: Metrics, execution: Execution) -> None:
    """Count a finished execution; observe its shortfall and how long it ran."""
    strategy, outcome = str(execution.decision.strategy), str(execution.state)
    metrics.executions.inc(strategy=strategy, outcome=outcome)
    shortfall = execution.shortfall_bps
    if shortfall is not None:
        metrics.shortfall.observe(float(shortfall), strategy=strategy)
    if execution.started_at is not None and execution.finished_at is not None:
        seconds = (execution.finished_at - execution.started_at).total_seconds()
        metrics.execution_duration.observe(max(0.0, seconds), strategy=strategy, outcome=outcome)
