"""structlog configured once per process: JSON in deployment, readable lines in development.

Tenant and trace ids are bound with ``bind_contextvars`` at the edge of each unit of work
(a request, a consumed record), so every log line under it carries them. Secrets that travel
in URLs (Z-API's token) are redacted from every line, structlog's and the libraries' alike
(``telemetry.redact``).
"""

import logging
import sys

import structlog

from config.shared import LogSettings
from telemetry.redact import redact_event, redact_records


def configure(settings: LogSettings, service: str) -> None:
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]
    renderer: structlog.types.Processor
    # Exceptions are made text first in both formats, so the redaction below sees them too.
    shared.append(structlog.processors.format_exc_info)
    shared.append(redact_event)
    if settings.format == "json":
        renderer = structlog.processors.JSONRenderer()
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=False)
    level = logging.getLevelName(settings.level.upper())
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)
    # Libraries that use stdlib logging (uvicorn, aiokafka, httpx) go to stderr at WARNING and
    # above; their records are redacted as they are made.
    redact_records()
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(name)s %(message)s", force=True
    )
