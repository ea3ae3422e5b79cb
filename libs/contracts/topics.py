"""Topic names, partition counts and the event union each topic carries, in one place."""

from dataclasses import dataclass
from typing import Any

from contracts.deadletter import DeadLettered
from contracts.inbound import InboundEvent
from contracts.media import MediaEvent
from contracts.outbound import OutboundEvent
from contracts.realtime import RealtimeEvent

INBOUND = "omni.inbound"
OUTBOUND = "omni.outbound"
MEDIA = "omni.media"
REALTIME = "omni.realtime"
DEADLETTER = "omni.deadletter"


@dataclass(frozen=True)
class Topic:
    name: str
    partitions: int
    schema: Any  # the annotated union a record on this topic validates against
    keyed_by: str


# Partition counts bound how many consumers of one group can work in parallel.
ALL: tuple[Topic, ...] = (
    Topic(INBOUND, 12, InboundEvent, "conversation (tenant + integration + contact)"),
    Topic(OUTBOUND, 12, OutboundEvent, "conversation"),
    Topic(MEDIA, 6, MediaEvent, "message"),
    Topic(REALTIME, 6, RealtimeEvent, "tenant"),
    Topic(DEADLETTER, 1, DeadLettered, "original key"),
)

BY_NAME: dict[str, Topic] = {t.name: t for t in ALL}
