"""Prometheus metrics and a health endpoint for the daemon (``monitor run --metrics 127.0.0.1:9108``).

``/metrics``: polls by source and outcome, errors by kind, articles stored, bytes fetched, a poll latency
histogram, and each source's lag behind its schedule. ``/healthz``: 200 while the scheduler ticks, 503
when it has not for a minute. Served from a thread by the standard library's WSGI server.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, make_wsgi_app

from monitor.models import PollState

HEALTHY_WITHIN_S = 60.0


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.polls = Counter(
            "monitor_polls", "Polls, by source and outcome", ["source", "outcome"], registry=self.registry
        )
        self.errors = Counter(
            "monitor_errors", "Failed polls, by kind of error", ["kind"], registry=self.registry
        )
        self.articles = Counter(
            "monitor_articles_stored", "New articles archived", ["source"], registry=self.registry
        )
        self.revisions = Counter(
            "monitor_revisions_stored", "Edits recorded", ["source"], registry=self.registry
        )
        self.bytes = Counter("monitor_bytes_fetched", "Body bytes fetched (decoded)", registry=self.registry)
        self.latency = Histogram(
            "monitor_poll_duration_seconds", "Time to poll one source, pages and extraction included",
            buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120), registry=self.registry,
        )  # fmt: skip
        self.lag = Gauge("monitor_source_lag_seconds", "How far behind its schedule a source is", ["source"],
                         registry=self.registry)  # fmt: skip
        self.heartbeat = Gauge(
            "monitor_heartbeat_timestamp_seconds", "Last scheduler tick", registry=self.registry
        )
        self.leases = Gauge(
            "monitor_worker_leases", "Feed hosts this worker holds a lease on (a shared archive's worker)",
            ["worker"], registry=self.registry,
        )  # fmt: skip
        self._last_beat = 0.0

    def observe(self, report: Any) -> None:
        """Count one poll's :class:`monitor.pipeline.PollReport`."""
        outcome = "error" if report.error else "not_modified" if report.not_modified else "ok"
        self.polls.labels(report.source, outcome).inc()
        if report.error:
            self.errors.labels(report.error_kind or "error").inc()
        self.articles.labels(report.source).inc(report.new)
        self.revisions.labels(report.source).inc(report.revised)
        self.bytes.inc(report.bytes)
        self.latency.observe(report.duration_s)

    def beat(self, now: datetime, states: Mapping[str, PollState]) -> None:
        self._last_beat = time.time()
        self.heartbeat.set(self._last_beat)
        for source, state in states.items():
            due = state.next_poll_at
            self.lag.labels(source).set(max(0.0, (now - due).total_seconds()) if due else 0.0)

    def leased(self, worker: str, hosts: int) -> None:
        self.leases.labels(worker).set(hosts)

    def healthy(self) -> bool:
        return time.time() - self._last_beat < HEALTHY_WITHIN_S

    def serve(self, host: str, port: int) -> WSGIServer:
        """Start serving in a daemon thread; ``shutdown()`` the returned server to stop."""
        metrics_app = make_wsgi_app(self.registry)

        def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            if environ.get("PATH_INFO") == "/healthz":
                ok = self.healthy()
                start_response(
                    "200 OK" if ok else "503 Service Unavailable", [("Content-Type", "text/plain")]
                )
                return [b"ok\n" if ok else b"scheduler has not ticked for a minute\n"]
            return metrics_app(environ, start_response)  # type: ignore[no-any-return]

        server = make_server(host, port, app, handler_class=_QuietHandler)
        threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
        return server
