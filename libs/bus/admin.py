"""Create the topics the system uses; safe to run again (existing topics are left alone)."""

import contextlib

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from config.shared import KafkaSettings
from contracts.topics import ALL


async def ensure_topics(settings: KafkaSettings, replication_factor: int = 1) -> list[str]:
    """Create missing topics; returns the names it created."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.bootstrap, request_timeout_ms=settings.request_timeout_ms
    )
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in ALL if t.name not in existing]
        if missing:
            # Another process may create one between list and create: that is fine.
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(
                    [NewTopic(t.name, t.partitions, replication_factor) for t in missing]
                )
        return [t.name for t in missing]
    finally:
        await admin.close()
