"""The dispatcher's Prometheus metrics, served on ``/metrics`` by ``telemetry.ops``."""

from prometheus_client import Counter, Histogram

SENDS = Counter(
    "dispatcher_sends_total",
    "Send requests by provider and outcome (sent, failed code, skipped)",
    ["provider", "outcome"],
)
MARK_READS = Counter(
    "dispatcher_mark_reads_total",
    "Mark-as-read requests by provider and outcome",
    ["provider", "outcome"],
)
RETRIES = Counter(
    "dispatcher_retries_total",
    "Provider calls retried, by provider and error class",
    ["provider", "error_class"],
)
RATE_LIMIT_WAITS = Counter(
    "dispatcher_rate_limit_waits_total",
    "Provider calls that waited for their integration's token bucket",
    ["provider"],
)
RATE_LIMIT_WAIT_SECONDS = Counter(
    "dispatcher_rate_limit_wait_seconds_total",
    "Time spent waiting for integration token buckets",
    ["provider"],
)
SEND_LATENCY = Histogram(
    "dispatcher_send_latency_seconds",
    "Duration of one provider send call",
    ["provider"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
REQUEUED = Counter(
    "dispatcher_sweep_total", "Stuck queued messages found by the sweep, by action", ["action"]
)
