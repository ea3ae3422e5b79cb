"""A polled batch → one ordered list per conversation.

Pure. Records keep their broker order inside a key (the outbound topic is keyed by
conversation, and one partition holds a key), so each list is handled in sequence while the
lists run side by side.
"""

from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar

T = TypeVar("T")


def by_key(items: Sequence[T], key: Callable[[T], Hashable]) -> list[list[T]]:
    """Groups in order of first appearance; each group in the order of ``items``."""
    groups: dict[Hashable, list[T]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return list(groups.values())
