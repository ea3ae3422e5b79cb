"""Consumer lag: how far each consumer group's committed offsets are behind the end of its
partitions, measured from outside the group (``bus.lag_exporter`` runs it), and how far the
gateway's group-less realtime reader is behind (``reader_lag``, measured by the reader itself).

From outside because lag matters most when a consumer is stuck: a worker that hangs (or is
paused) cannot serve its own ``/metrics``, so a gauge it kept itself would vanish exactly when
it should be rising. The broker knows both numbers: the group's committed offsets (OffsetFetch,
without joining the group) and each partition's end (ListOffsets).

Labels are bounded: the groups are configured (``LAG_GROUPS``), the topics are the system's
own, partitions are as many as the topic has.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from prometheus_client import Gauge

from config.shared import KafkaSettings

GROUP_LAG = Gauge(
    "kafka_consumer_group_lag",
    "Records of a partition not yet committed by the group (end offset - committed offset)",
    ["group", "topic", "partition"],
)
LAG_SCRAPE_OK = Gauge(
    "kafka_consumer_group_lag_up",
    "1 if the last lag reading of the group reached the broker, else 0",
    ["group"],
)
READER_LAG = Gauge(
    "kafka_reader_lag",
    "Records between a group-less reader's position and the partition's high watermark",
    ["reader", "topic", "partition"],
)


@dataclass(frozen=True)
class Watched:
    group: str
    topics: tuple[str, ...]


def parse_groups(spec: str) -> list[Watched]:
    """``group=topic[+topic],group=topic`` → the groups to watch and the topics each consumes.

    >>> parse_groups("ingest-worker=omni.inbound,dispatcher=omni.outbound")[1]
    Watched(group='dispatcher', topics=('omni.outbound',))
    """
    watched = []
    for item in filter(None, (part.strip() for part in spec.split(","))):
        group, sep, names = item.partition("=")
        topic_names = tuple(filter(None, (t.strip() for t in names.split("+"))))
        if not sep or not group.strip() or not topic_names:
            raise ValueError(f"LAG_GROUPS entry {item!r}: expected group=topic[+topic]")
        watched.append(Watched(group.strip(), topic_names))
    return watched


def partition_lag(committed: int | None, end: int) -> int | None:
    """Records left after ``committed`` up to ``end``; ``None`` for a partition the group has
    never committed (nothing to compare). Never negative: the embedded broker answers
    ListOffsets with the last batch's base offset + 1, which a group that read that whole
    batch has already passed."""
    if committed is None or committed < 0:
        return None
    return max(0, end - committed)


def group_lags(
    committed: Mapping[TopicPartition, int | None], ends: Mapping[TopicPartition, int]
) -> dict[TopicPartition, int]:
    """The lag of every partition both known and committed."""
    lags = {}
    for tp, end in ends.items():
        lag = partition_lag(committed.get(tp), end)
        if lag is not None:
            lags[tp] = lag
    return lags


class LagReader:
    """One admin client (committed offsets) and one group-less consumer (end offsets), kept
    open between readings."""

    def __init__(self, settings: KafkaSettings) -> None:
        client_id = f"{settings.client_id}-lag"
        self._admin = AIOKafkaAdminClient(
            bootstrap_servers=settings.bootstrap,
            client_id=client_id,
            request_timeout_ms=settings.request_timeout_ms,
        )
        self._ends = AIOKafkaConsumer(
            bootstrap_servers=settings.bootstrap,
            client_id=client_id,
            group_id=None,
            request_timeout_ms=max(settings.request_timeout_ms, 40_000),
        )

    async def start(self) -> None:
        await self._admin.start()
        await self._ends.start()

    async def stop(self) -> None:
        await self._ends.stop()
        await self._admin.close()

    async def partitions(self, topic_names: Iterable[str]) -> list[TopicPartition]:
        await self._ends.topics()  # refreshes metadata
        return [
            TopicPartition(topic, p)
            for topic in topic_names
            for p in sorted(self._ends.partitions_for_topic(topic) or ())
        ]

    async def read(self, watched: Watched) -> dict[TopicPartition, int]:
        partitions = await self.partitions(watched.topics)
        if not partitions:
            return {}
        offsets = await self._admin.list_consumer_group_offsets(
            watched.group, partitions=partitions
        )
        committed = {tp: meta.offset for tp, meta in offsets.items()}
        ends = await self._ends.end_offsets(partitions)
        return group_lags(committed, ends)

    async def export(self, watched: Watched) -> None:
        """Read one group and set its gauges; a failed reading marks the group down and keeps
        the last values (a gap in the lag graph would look like recovery)."""
        try:
            lags = await self.read(watched)
        except Exception:
            LAG_SCRAPE_OK.labels(watched.group).set(0)
            raise
        for tp, lag in lags.items():
            GROUP_LAG.labels(watched.group, tp.topic, str(tp.partition)).set(lag)
        LAG_SCRAPE_OK.labels(watched.group).set(1)


def reader_lag(
    consumer: AIOKafkaConsumer, reader: str, batches: Mapping[TopicPartition, Sequence[Any]]
) -> None:
    """Set ``kafka_reader_lag`` for the partitions of a batch just handled: the high watermark
    its fetch reported against the offset after its last record, so no broker call. A reader
    with nothing to read keeps its last value, which is then 0."""
    for tp, records in batches.items():
        highwater = consumer.highwater(tp)
        if highwater is None or not records:
            continue
        lag = max(0, highwater - (records[-1].offset + 1))
        READER_LAG.labels(reader, tp.topic, str(tp.partition)).set(lag)
