"""The WhatsApp 24-hour customer-service window: free-form messages only within 24 hours of the
customer's last message; outside it only an approved template may be sent."""

from datetime import datetime, timedelta

WINDOW = timedelta(hours=24)


def window_open(last_inbound_at: datetime | None, now: datetime) -> bool:
    return last_inbound_at is not None and now - last_inbound_at < WINDOW
