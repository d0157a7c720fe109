"""Counters, gauges and histograms rendered in the Prometheus text format (no dependency)."""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.domain.executions import Execution

LabelKey = tuple[tuple[str, str], ...]


def _key(labels: dict[str, str]) -> LabelKey:
    return tuple(sorted(labels.items()))


def _fmt_labels(key: LabelKey, extra: Iterable[tuple[str, str]] = ()) -> str:
    items = [*key, *extra]
    if not items:
        return ""
    body = ",".join(f'{k}="{_escape(v)}"' for k, v in items)
    return "{" + body + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


@dataclass
class Counter:
    name: str
    help: str
    values: dict[LabelKey, float] = field(default_factory=dict)

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        key = _key(labels)
        self.values[key] = self.values.get(key, 0.0) + amount

    def get(self, **labels: str) -> float:
        return self.values.get(_key(labels), 0.0)

    def render(self) -> list[str]:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} counter"]
        lines += [f"{self.name}{_fmt_labels(k)} {v:g}" for k, v in sorted(self.values.items())]
        return lines


@dataclass
class Gauge:
    name: str
    help: str
    values: dict[LabelKey, float] = field(default_factory=dict)

    def set(self, value: float, **labels: str) -> None:
        self.values[_key(labels)] = value

    def render(self) -> list[str]:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} gauge"]
        lines += [f"{self.name}{_fmt_labels(k)} {v:g}" for k, v in sorted(self.values.items())]
        return lines


@dataclass
class Histogram:
    name: str
    help: str
    buckets: tuple[float, ...]
    counts: dict[LabelKey, list[int]] = field(default_factory=dict)
    sums: dict[LabelKey, float] = field(default_factory=dict)

    def observe(self, value: float, **labels: str) -> None:
        key = _key(labels)
        counts = self.counts.setdefault(key, [0] * (len(self.buckets) + 1))
        counts[bisect.bisect_left(self.buckets, value)] += 1
        self.sums[key] = self.sums.get(key, 0.0) + value

    def render(self) -> list[str]:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} histogram"]
        for key, counts in sorted(self.counts.items()):
            running = 0
            for bound, count in zip((*self.buckets, float("inf")), counts, strict=True):
                running += count
                le = "+Inf" if bound == float("inf") else f"{bound:g}"
                lines.append(f"{self.name}_bucket{_fmt_labels(key, [('le', le)])} {running}")
            lines.append(f"{self.name}_sum{_fmt_labels(key)} {self.sums[key]:g}")
            lines.append(f"{self.name}_count{_fmt_labels(key)} {running}")
        return lines


class Metrics:
    """Every metric sellbot exports."""

    def __init__(self) -> None:
        self.executions = Counter(
            "sellbot_executions_total", "Finished executions by strategy and outcome"
        )
        self.shortfall = Histogram(
            "sellbot_shortfall_bps",
            "Implementation shortfall of finished executions, bps",
            (-50, -10, 0, 5, 10, 25, 50, 100, 250, 500),
        )
        self.request_latency = Histogram(
            "sellbot_exchange_request_seconds",
            "Exchange request latency by endpoint",
            (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.request_errors = Counter(
            "sellbot_exchange_errors_total", "Exchange request errors by endpoint and kind"
        )
        self.llm_calls = Counter("sellbot_llm_calls_total", "Advisor calls by advisor and outcome")
        self.cache_gauge = Gauge("sellbot_cache_requests", "Market-data cache hits and misses")
        self.order_states = Gauge("sellbot_orders", "Orders in the database by state")
        self.execution_states = Gauge(
            "sellbot_executions", "Executions in the database by strategy and state"
        )
        self.cycles = Counter("sellbot_cycles_total", "Prioritisation cycles by outcome")
        self.job_errors = Counter("sellbot_job_errors_total", "Scheduler jobs that raised")
        self.exchange_blocked = Counter(
            "sellbot_exchange_blocked_total", "Jobs stopped by a block page, by job and reason"
        )
        self.running = Gauge("sellbot_executions_running", "Executions running now")
        self.paused = Gauge("sellbot_paused", "1 when the kill switch is on")
        self.stream_connected = Gauge(
            "sellbot_stream_connected", "1 while the public WebSocket stream is connected"
        )
        self.stream_bad_messages = Counter(
            "sellbot_stream_bad_messages_total", "WebSocket messages that did not parse or apply"
        )
        self.stream_reconnects = Counter(
            "sellbot_stream_reconnects_total", "Public WebSocket stream reconnections"
        )
        self.stream_books_polled = Gauge(
            "sellbot_stream_books_polled",
            "Markets whose books come from REST: the stream sent none by its timeout",
        )

    def all(self) -> list[Counter | Gauge | Histogram]:
        return [v for v in vars(self).values() if isinstance(v, Counter | Gauge | Histogram)]

    def render(self) -> str:
        lines: list[str] = []
        for metric in self.all():
            lines += metric.render()
        return "\n".join(lines) + "\n"


def record_finished(metrics: Metrics, execution: Execution) -> None:
    """Count a finished execution and observe its shortfall."""
    metrics.executions.inc(strategy=str(execution.decision.strategy), outcome=str(execution.state))
    shortfall = execution.shortfall_bps
    if shortfall is not None:
        metrics.shortfall.observe(float(shortfall), strategy=str(execution.decision.strategy))
