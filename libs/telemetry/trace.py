"""W3C trace context (https://www.w3.org/TR/trace-context/): make, parse and continue traceparents.

Pure functions: the webhook edge starts a trace, every hop continues it with a new span id,
so one trace id runs from the provider's webhook to the agent's websocket frame.
"""

import re
import secrets

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


def new_traceparent() -> str:
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"


def trace_id(traceparent: str | None) -> str | None:
    match = _TRACEPARENT.match(traceparent or "")
    return match.group(1) if match else None


def child(traceparent: str | None) -> str:
    """A traceparent for the next hop: same trace, new span; a fresh trace if none or invalid."""
    match = _TRACEPARENT.match(traceparent or "")
    if not match or match.group(1) == "0" * 32:
        return new_traceparent()
    return f"00-{match.group(1)}-{secrets.token_hex(8)}-{match.group(3)}"
