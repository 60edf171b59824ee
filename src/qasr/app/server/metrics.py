"""Prometheus metrics, written by hand in the text exposition format (version 0.0.4).

A handful of counters and histograms do not earn a dependency: `prometheus_client` would add a
global registry that tests and several apps in one process would have to work around.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Sequence

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128)


class Histogram:
    def __init__(self, name: str, help_text: str, buckets: Sequence[float]) -> None:
        self.name, self.help_text, self.buckets = name, help_text, tuple(buckets)
        self.counts = [0] * (len(self.buckets) + 1)
        self.total = 0.0
        self._lock = threading.Lock()

    def observe(self, value: float) -> None:
        with self._lock:
            self.counts[bisect.bisect_left(self.buckets, value)] += 1
            self.total += value

    def render(self) -> list[str]:
        lines = [f"# HELP {self.name} {self.help_text}", f"# TYPE {self.name} histogram"]
        with self._lock:
            running = 0
            for bound, count in zip((*self.buckets, float("inf")), self.counts, strict=True):
                running += count
                label = "+Inf" if bound == float("inf") else repr(float(bound))
                lines.append(f'{self.name}_bucket{{le="{label}"}} {running}')
            lines += [f"{self.name}_sum {self.total!r}", f"{self.name}_count {running}"]
        return lines


class Counter:
    """A counter with optional labels, e.g. requests by route and status."""

    def __init__(self, name: str, help_text: str) -> None:
        self.name, self.help_text = name, help_text
        self.values: dict[tuple[tuple[str, str], ...], float] = {}
        self._lock = threading.Lock()

    def add(self, amount: float = 1.0, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self._lock:
            self.values[key] = self.values.get(key, 0.0) + amount

    def value(self, **labels: str) -> float:
        with self._lock:
            return self.values.get(tuple(sorted(labels.items())), 0.0)

    def render(self) -> list[str]:
        lines = [f"# HELP {self.name} {self.help_text}", f"# TYPE {self.name} counter"]
        with self._lock:
            for key, value in sorted(self.values.items()):
                lines.append(f"{self.name}{_labels(key)} {value!r}")
        return lines


def _labels(key: tuple[tuple[str, str], ...]) -> str:
    if not key:
        return ""
    inner = ",".join(f'{name}="{_escape(value)}"' for name, value in key)
    return "{" + inner + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class ServerMetrics:
    """Everything /metrics shows. Gauges are read when rendered, from the callables given."""

    def __init__(self) -> None:
        self.requests = Counter("qasr_http_requests_total", "HTTP requests by route and status.")
        self.request_seconds = Histogram(
            "qasr_http_request_seconds", "Time to answer an HTTP request.", LATENCY_BUCKETS
        )
        self.batch_chunks = Histogram(
            "qasr_batch_chunks", "Audio chunks decoded together in one batch.", BATCH_BUCKETS
        )
        self.batch_requests = Histogram(
            "qasr_batch_requests", "Requests whose chunks shared one batch.", BATCH_BUCKETS
        )
        self.batch_seconds = Histogram(
            "qasr_batch_seconds", "Time to decode one batch.", LATENCY_BUCKETS
        )
        self.audio_seconds = Counter("qasr_audio_seconds_total", "Seconds of audio transcribed.")
        self.jobs = Counter("qasr_jobs_total", "Jobs by final status.")
        self.webhooks = Counter("qasr_webhook_calls_total", "Webhook calls by outcome.")
        self.gauges: dict[str, tuple[str, Callable[[], float]]] = {}

    def gauge(self, name: str, help_text: str, read: Callable[[], float]) -> None:
        self.gauges[name] = (help_text, read)

    def render(self) -> str:
        lines: list[str] = []
        for name, (help_text, read) in sorted(self.gauges.items()):
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", f"{name} {read()!r}"]
        for metric in (
            self.requests, self.request_seconds, self.batch_chunks, self.batch_requests,
            self.batch_seconds, self.audio_seconds, self.jobs, self.webhooks,
        ):  # fmt: skip
            lines += metric.render()
        return "\n".join(lines) + "\n"
