"""Create the topics the system uses; safe to run again (existing topics are left alone).

Durability is configured here, never left to the broker's defaults: every topic gets the
replication factor and ``min.insync.replicas`` of ``TopicSettings`` (3 and 2 in production,
1 and 1 on a single broker), and the dead-letter topic keeps its records long enough to be
replayed after the cause is fixed (30 days by default).
"""

import contextlib

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from config.shared import KafkaSettings
from contracts import topics
from contracts.topics import ALL

DAY_MS = 24 * 3600 * 1000


class TopicSettings(BaseSettings):
    """``KAFKA_REPLICATION_FACTOR``, ``KAFKA_MIN_INSYNC_REPLICAS``,
    ``KAFKA_DEADLETTER_RETENTION_DAYS``: what ``omni topics create`` creates topics with."""

    model_config = SettingsConfigDict(env_prefix="KAFKA_", extra="ignore")

    replication_factor: int = Field(default=1, ge=1)
    min_insync_replicas: int = Field(default=1, ge=1)
    deadletter_retention_days: int = Field(default=30, ge=1)

    @model_validator(mode="after")
    def _insync_within_replicas(self) -> "TopicSettings":
        if self.min_insync_replicas > self.replication_factor:
            raise ValueError(
                f"KAFKA_MIN_INSYNC_REPLICAS ({self.min_insync_replicas}) cannot exceed "
                f"KAFKA_REPLICATION_FACTOR ({self.replication_factor}): no write would succeed"
            )
        return self


def topic_specs(settings: TopicSettings) -> list[NewTopic]:
    """Pure: the topics to create, with their durability settings."""
    specs = []
    for topic in ALL:
        config = {"min.insync.replicas": str(settings.min_insync_replicas)}
        if topic.name == topics.DEADLETTER:
            config["retention.ms"] = str(settings.deadletter_retention_days * DAY_MS)
        specs.append(
            NewTopic(
                topic.name, topic.partitions, settings.replication_factor, topic_configs=config
            )
        )
    return specs


async def ensure_topics(
    settings: KafkaSettings, durability: TopicSettings | None = None
) -> list[str]:
    """Create missing topics; returns the names it created."""
    specs = topic_specs(durability or TopicSettings())
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.bootstrap, request_timeout_ms=settings.request_timeout_ms
    )
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [spec for spec in specs if spec.name not in existing]
        if missing:
            # Another process may create one between list and create: that is fine.
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(missing)
        return [spec.name for spec in missing]
    finally:
        await admin.close()
