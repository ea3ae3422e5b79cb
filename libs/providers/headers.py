"""Case-insensitive header lookup shared by the webhook verifiers."""

from collections.abc import Mapping


def header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    # Fast path: ASGI servers and HTTP/2 give lower-case names already.
    if (value := headers.get(wanted)) is not None:
        return value
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None
