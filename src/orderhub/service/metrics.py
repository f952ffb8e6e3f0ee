"""Prometheus metrics of one hub (its own registry, so several hubs can live in one test process)."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

_LATENCY = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass(frozen=True, slots=True)
class ConnectorMetrics:
    received: Counter
    accepted: Counter
    duplicate: Counter
    ack_seconds: Histogram
    normalize_seconds: Histogram


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._of: dict[str, ConnectorMetrics] = {}
        r = self.registry
        self.received = Counter(
            "orderhub_payloads_received", "Payloads received, before any check", ["connector"], registry=r
        )
        self.accepted = Counter("orderhub_payloads_accepted", "Payloads durably stored", ["connector"], registry=r)
        self.rejected = Counter(
            "orderhub_payloads_rejected",
            "Payloads refused (bad signature, too large)",
            ["connector", "reason"],
            registry=r,
        )
        self.duplicate = Counter(
            "orderhub_payloads_duplicate", "Repeated deliveries (same delivery id)", ["connector"], registry=r
        )
        self.orders = Counter(
            "orderhub_orders_normalized", "Canonical orders applied, by outcome", ["connector", "outcome"], registry=r
        )
        self.dlq = Counter("orderhub_normalize_failures", "Payloads sent to the DLQ", ["connector"], registry=r)
        self.ack_seconds = Histogram(
            "orderhub_ack_seconds", "Webhook receipt to durable answer", ["connector"], buckets=_LATENCY, registry=r
        )
        self.normalize_seconds = Histogram(
            "orderhub_normalize_seconds",
            "Receipt to canonical order committed",
            ["connector"],
            buckets=_LATENCY,
            registry=r,
        )
        self.tracking = Counter(
            "orderhub_tracking_pushes",
            "Fulfillment events handled by the track stage (pushed, already_pushed, skipped, dlq)",
            ["connector", "outcome"],
            registry=r,
        )
        self.connector_restarts = Counter(
            "orderhub_connector_restarts", "Connector loops restarted after a failure", ["connector"], registry=r
        )

    def of(self, connector: str) -> ConnectorMetrics:
        """The per-connector series, looked up once per connector (a label lookup costs more than
        the increment, and these move on every webhook)."""
        found = self._of.get(connector)
        if found is None:
            found = self._of[connector] = ConnectorMetrics(
                received=self.received.labels(connector),
                accepted=self.accepted.labels(connector),
                duplicate=self.duplicate.labels(connector),
                ack_seconds=self.ack_seconds.labels(connector),
                normalize_seconds=self.normalize_seconds.labels(connector),
            )
        return found

    def render(self) -> bytes:
        return bytes(generate_latest(self.registry))
