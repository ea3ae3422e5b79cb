"""Prometheus metrics of ingest-api (served on /metrics, on the ops port).

Every label value comes from a fixed set: a provider segment of the URL that names no known
provider is counted as ``unknown`` (``provider_label``), so nobody can grow the registry (and
the process's memory) by posting to made-up paths.
"""

from prometheus_client import Counter

from contracts import Provider

UNKNOWN_PROVIDER = "unknown"
_PROVIDERS = frozenset(p.value for p in Provider)

WEBHOOKS = Counter(
    "ingest_webhooks_total", "Webhooks answered, by provider and outcome", ["provider", "outcome"]
)
REJECTIONS = Counter(
    "ingest_webhook_rejections_total",
    "Webhooks refused before anything was published, by provider and reason code",
    ["provider", "code"],
)
META_ENTRIES_SKIPPED = Counter(
    "ingest_meta_entries_skipped_total",
    "Accounts (phone_number_id) of Meta app-level webhooks left out, by reason",
    ["reason"],
)


def known_provider(name: str) -> bool:
    return name in _PROVIDERS


def provider_label(name: str) -> str:
    """The label for a provider named by a URL: itself if known, else ``unknown``."""
    return name if name in _PROVIDERS else UNKNOWN_PROVIDER
