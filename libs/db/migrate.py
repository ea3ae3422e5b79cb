"""Apply the schema with Alembic, then make sure the application role can log in.

Runs as the owner (``DATABASE_URL``); the services never do. The migration itself creates the
``omni_app`` role (NOLOGIN); here it gets LOGIN and the password the services use.
"""

from pathlib import Path

import asyncpg
from alembic import command
from alembic.config import Config

APP_ROLE = "omni_app"
MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(owner_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["url"] = owner_url
    return cfg


def upgrade(owner_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(owner_url), revision)


def downgrade(owner_url: str, revision: str) -> None:
    command.downgrade(alembic_config(owner_url), revision)


async def enable_app_login(owner_url: str, password: str) -> None:
    conn = await asyncpg.connect(owner_url)
    try:
        # Role names and passwords cannot be bound parameters in DDL; quote them properly.
        literal = await conn.fetchval("SELECT quote_literal($1)", password)
        await conn.execute(f"ALTER ROLE {APP_ROLE} WITH LOGIN PASSWORD {literal}")
    finally:
        await conn.close()


async def ensure_database(admin_url: str, name: str) -> None:
    """Create database ``name`` on the server of ``admin_url`` if it does not exist."""
    conn = await asyncpg.connect(admin_url)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            ident = await conn.fetchval("SELECT quote_ident($1)", name)
            await conn.execute(f"CREATE DATABASE {ident}")
    finally:
        await conn.close()
