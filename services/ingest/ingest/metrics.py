"""Prometheus metrics of ingest-api (served on /metrics)."""

from prometheus_client import Counter

WEBHOOKS = Counter(
    "ingest_webhooks_total", "Webhooks answered, by provider and outcome", ["provider", "outcome"]
)
REJECTIONS = Counter(
    "ingest_webhook_rejections_total",
    "Webhooks refused before anything was published, by provider and reason code",
    ["provider", "code"],
)
