"""Reading ``omni.realtime`` in tests: the updates published for one message."""

import asyncio
from typing import Any
from uuid import UUID

from aiokafka import AIOKafkaConsumer

from config.shared import KafkaSettings
from contracts import topics
from contracts.codec import decode


async def updates_for(
    settings: KafkaSettings, message_id: UUID, *, at_least: int, idle_s: float = 2.0
) -> list[Any]:
    """``message.updated`` events of ``message_id`` on the topic: waits (up to 30 s) for
    ``at_least``, then keeps reading until ``idle_s`` without a new one."""
    consumer = AIOKafkaConsumer(
        topics.REALTIME,
        bootstrap_servers=settings.bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    found: list[Any] = []
    try:
        async with asyncio.timeout(30):
            idle = 0.0
            while len(found) < at_least or idle < idle_s:
                batches = await consumer.getmany(timeout_ms=300)
                before = len(found)
                for records in batches.values():
                    for record in records:
                        if str(message_id).encode() not in record.value:
                            continue
                        event = decode(topics.REALTIME, record.value)
                        if event.type == "message.updated" and event.message.id == message_id:
                            found.append(event)
                if len(found) > before:
                    idle = 0.0
                elif not batches:
                    idle += 0.3
    finally:
        await consumer.stop()
    return found
