"""Case-insensitive header lookup shared by the webhook verifiers."""

from collections.abc import Mapping


def header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None
