"""The dispatcher: sends agents' outbound messages and mark-as-read requests to providers, with
retries, per-integration rate limits and an honest status on every message row."""
