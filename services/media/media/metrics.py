"""Prometheus metrics of the media service (served on /metrics)."""

from prometheus_client import Counter, Histogram

FETCHES = Counter("media_fetches_total", "Fetch requests handled, by outcome", ["outcome"])
FETCHED_BYTES = Counter("media_fetched_bytes_total", "Bytes stored from providers")
UPLOADS = Counter("media_uploads_total", "Uploads for outbound messages, by outcome", ["outcome"])
DOWNLOADS = Counter("media_downloads_total", "Download URLs handed out, by outcome", ["outcome"])
FETCH_SECONDS = Histogram(
    "media_fetch_seconds",
    "Time to fetch and store one attachment",
    buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60),
)
