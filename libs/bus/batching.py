"""Pure: which records of which callers go into which topic-partition batch.

A record is ``(topic, key, value, headers)``. Keyed records go where ``place(key, partitions)``
says, so one key (one conversation) always lands on one partition and keeps its order; records
without a key spread round-robin.
"""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import count

Record = tuple[str, bytes | None, bytes, list[tuple[str, bytes]]]
TopicPartition = tuple[str, int]
Place = Callable[[bytes, int], int]


@dataclass
class Pending:
    """One caller's records and the future it waits on."""

    records: list[Record]
    done: "asyncio.Future[None]"
    placed: set[TopicPartition] = field(default_factory=set)


_spread = count()


def plan(
    queued: list[Pending], partitions: dict[str, int], place: Place
) -> dict[TopicPartition, list[tuple[bytes | None, bytes, list[tuple[str, bytes]]]]]:
    """Group every queued record by topic-partition, in queue order, noting on each caller
    the partitions its records went to."""
    groups: dict[TopicPartition, list[tuple[bytes | None, bytes, list[tuple[str, bytes]]]]] = {}
    for pending in queued:
        for topic, key, value, headers in pending.records:
            n = partitions[topic]
            tp = (topic, place(key, n) if key is not None else next(_spread) % n)
            groups.setdefault(tp, []).append((key, value, headers))
            pending.placed.add(tp)
    return groups
