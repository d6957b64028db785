"""Prometheus metrics, one registry per app (so that several apps can live in one process)."""

import time
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Histogram(
            "parley_http_request_duration_seconds",
            "HTTP requests by route template, method and status.",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.fhir_calls = Histogram(
            "parley_fhir_request_duration_seconds",
            "Calls to the FHIR server by method, resource type and outcome.",
            ["method", "resource_type", "outcome"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.fhir_errors = Counter(
            "parley_fhir_errors_total",
            "FHIR calls that failed, by kind (HTTP status or transport error).",
            ["outcome"],
            registry=self.registry,
        )
        self.reconciled = Counter(
            "parley_reconciler_projected_total",
            "Resources the reconciler found in FHIR without a SQL row, and projected.",
            registry=self.registry,
        )
        self.projection_failures = Counter(
            "parley_projection_failures_total",
            "FHIR resources a reconcile run could not project (each is retried the next run).",
            registry=self.registry,
        )
        self.reconciler_last_success = Gauge(
            "parley_reconciler_last_success_timestamp_seconds",
            "When the reconciler last finished a run.",
            registry=self.registry,
        )
        self.reconciler_lag = Gauge(
            "parley_reconciler_lag_seconds",
            "Seconds since the reconciler last finished a run.",
            registry=self.registry,
        )
        self.reconciler_lag.set_function(self._reconciler_lag)
        self.sql_statements = Counter(
            "parley_sql_statements_total",
            "SQL statements sent to the database (round trips, BEGIN and COMMIT aside).",
            registry=self.registry,
        )
        self.sql_transactions = Counter(
            "parley_sql_transactions_total",
            "SQL transactions ended, by how they ended.",
            ["end"],
            registry=self.registry,
        )
        self.sse_connections = Gauge(
            "parley_sse_connections", "Open event streams.", registry=self.registry
        )

    def _reconciler_lag(self) -> float:
        last = self.reconciler_last_success._value.get()
        return time.time() - last if last else float("nan")

    def count_streams(self, current: Callable[[], int]) -> None:
        self.sse_connections.set_function(lambda: float(current()))

    def observe_fhir_call(
        self, method: str, resource_type: str, outcome: str, seconds: float
    ) -> None:
        self.fhir_calls.labels(method, resource_type, outcome).observe(seconds)
        if not outcome.isdigit() or int(outcome) >= 400:
            self.fhir_errors.labels(outcome).inc()
