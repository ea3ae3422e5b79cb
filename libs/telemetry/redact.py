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


def redact_records() -> None:
    """Every stdlib log record redacted as it is made (the record factory), so none escapes
    through a handler this process did not install (uvicorn configures its own loggers, with
    their own handlers, after ours). Idempotent."""
    make = logging.getLogRecordFactory()
    if getattr(make, "redacting", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            # Formatters use this text as it is instead of formatting the traceback again.
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return record

    factory.redacting = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
