"""How many times each record's handling was started and never finished, across restarts.

A record that kills its consumer (out of memory, a native crash) is never failed by the
handler: the process dies, its offset is not committed, and the next process gets the same
record and dies again, for every tenant behind it. Retries in one process cannot see that, so
the count lives in Postgres (table ``consumer_deliveries``, one row per record in flight): it is
incremented before the handler starts and the rows go once the offsets are committed. A record
found with ``max_deliveries`` unfinished starts is set aside as a dead letter
(``BatchConsumer``).

The table holds offsets only, no tenant data, so it has no row-level security.
"""

from collections.abc import Mapping, Sequence
from typing import Protocol

import asyncpg

# (topic, partition, offset): one record of one consumer group.
RecordId = tuple[str, int, int]


class DeliveryLedger(Protocol):
    async def counts(self, group: str, records: Sequence[RecordId]) -> dict[RecordId, int]:
        """Unfinished starts of each of ``records`` (absent: none)."""
        ...

    async def started(self, group: str, records: Sequence[RecordId]) -> None:
        """Count one more start for each of ``records``, durably, before handling them."""
        ...

    async def settled(self, group: str, committed: Mapping[tuple[str, int], int]) -> None:
        """Forget every record below each partition's committed offset."""
        ...


class PostgresDeliveries:
    """The ledger in Postgres, over the service's pool (``omni_app`` may use the table)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def counts(self, group: str, records: Sequence[RecordId]) -> dict[RecordId, int]:
        if not records:
            return {}
        topics, partitions, offsets = _columns(records)
        rows = await self._pool.fetch(
            """
            SELECT d.topic, d.partition, d."offset", d.deliveries
            FROM consumer_deliveries d
            JOIN unnest($2::text[], $3::int[], $4::bigint[]) AS r(topic, partition, "offset")
              ON (d.topic, d.partition, d."offset") = (r.topic, r.partition, r."offset")
            WHERE d.consumer_group = $1
            """,
            group,
            topics,
            partitions,
            offsets,
        )
        return {(r["topic"], r["partition"], r["offset"]): r["deliveries"] for r in rows}

    async def started(self, group: str, records: Sequence[RecordId]) -> None:
        if not records:
            return
        topics, partitions, offsets = _columns(records)
        await self._pool.execute(
            """
            INSERT INTO consumer_deliveries AS d
                (consumer_group, topic, partition, "offset", deliveries)
            SELECT $1, topic, partition, "offset", 1
            FROM unnest($2::text[], $3::int[], $4::bigint[]) AS r(topic, partition, "offset")
            ON CONFLICT (consumer_group, topic, partition, "offset")
            DO UPDATE SET deliveries = d.deliveries + 1, last_started_at = now()
            """,
            group,
            topics,
            partitions,
            offsets,
        )

    async def settled(self, group: str, committed: Mapping[tuple[str, int], int]) -> None:
        if not committed:
            return
        await self._pool.execute(
            """
            DELETE FROM consumer_deliveries d
            USING unnest($2::text[], $3::int[], $4::bigint[]) AS c(topic, partition, next)
            WHERE d.consumer_group = $1 AND d.topic = c.topic AND d.partition = c.partition
              AND d."offset" < c.next
            """,
            group,
            [tp[0] for tp in committed],
            [tp[1] for tp in committed],
            list(committed.values()),
        )


def _columns(records: Sequence[RecordId]) -> tuple[list[str], list[int], list[int]]:
    return [r[0] for r in records], [r[1] for r in records], [r[2] for r in records]
