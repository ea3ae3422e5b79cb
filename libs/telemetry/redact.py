"""Secrets that travel in URLs, removed from log lines.

Z-API has no auth header: its client token sits in every API path
(``/instances/<id>/token/<TOKEN>/send-text``) and its webhook secret in the callback URL's
query (``?token=``). Any log line that carries a URL (an httpx request log, an exception's
text, an error field) would otherwise write the credential into the logs. ``redact`` is pure;
``telemetry.logging`` applies it to every structlog event and every stdlib log record.
"""

import logging
import re
from collections.abc import MutableMapping
from typing import Any

MASK = "[redacted]"

# A path segment after ``/token/``, and the value of token-like query parameters.
_PATH_TOKEN = re.compile(r"(/token/)[^/?#\s\"']+", re.IGNORECASE)
_QUERY_TOKEN = re.compile(
    r"([?&](?:token|access_token|client[-_]token|apikey|api_key)=)[^&#\s\"']+", re.IGNORECASE
)


def redact(text: str) -> str:
    if "token" not in text.lower() and "key" not in text.lower():
        return text  # the common case, without running the patterns
    return _QUERY_TOKEN.sub(rf"\1{MASK}", _PATH_TOKEN.sub(rf"\1{MASK}", text))


def redact_event(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: every string value of the event (the message, fields, a formatted
    exception) redacted."""
    for key, value in event.items():
        if isinstance(value, str):
            event[key] = redact(value)
        elif isinstance(value, BaseException):
            event[key] = redact(repr(value))
    return event


class RedactingFilter(logging.Filter):
    """On a handler: the record's message (arguments merged in) redacted before formatting."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_text is None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True
