"""Readiness checks for /readyz: can this process reach the broker and the database now?"""

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient

from config.shared import KafkaSettings


async def broker_reachable(settings: KafkaSettings) -> bool:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap, request_timeout_ms=2000)
    try:
        await admin.start()
        await admin.list_topics()
        return True
    except Exception:
        return False
    finally:
        await admin.close()


async def database_reachable(pool: asyncpg.Pool) -> bool:
    try:
        return await pool.fetchval("SELECT true", timeout=2) is True
    except Exception:
        return False
