"""The whole infrastructure as one object: start what is missing, prepare it, stop it.

Used by ``omni dev`` and by the test-suite's session fixture alike, so both run against the
same parts started the same way.
"""

import asyncio
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bus.admin import ensure_topics
from config.shared import KafkaSettings
from db.migrate import APP_ROLE, enable_app_login, ensure_database, upgrade
from devstack.containers import Containers, start_containers
from devstack.kafka import TansuBroker
from devstack.postgres import EmbeddedPostgres
from devstack.s3 import MotoS3
from devstack.settings import StackSettings


@dataclass
class Endpoints:
    database_url: str  # owner
    app_database_url: str  # application role
    kafka_bootstrap: str
    kafka_idempotent: bool
    kafka_fetch_max_wait_ms: int | None  # set for Tansu, which does not end a fetch early
    s3_endpoint: str
    s3_bucket: str
    s3_access_key: str
    s3_secret_key: str

    def env(self) -> dict[str, str]:
        """The variables a service process needs to reach this infrastructure."""
        return {
            "DATABASE_URL": self.database_url,
            "APP_DATABASE_URL": self.app_database_url,
            "KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            "KAFKA_IDEMPOTENT": "true" if self.kafka_idempotent else "false",
            **(
                {"KAFKA_FETCH_MAX_WAIT_MS": str(self.kafka_fetch_max_wait_ms)}
                if self.kafka_fetch_max_wait_ms is not None
                else {}
            ),
            "S3_ENDPOINT": self.s3_endpoint,
            "S3_BUCKET": self.s3_bucket,
            "S3_ACCESS_KEY": self.s3_access_key,
            "S3_SECRET_KEY": self.s3_secret_key,
        }


def _with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


def app_url_from_owner(owner_url: str, password: str) -> str:
    parts = urlsplit(owner_url)
    host = parts.hostname or "127.0.0.1"
    netloc = f"{APP_ROLE}:{password}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class Stack:
    def __init__(self, settings: StackSettings, root: Path | None = None) -> None:
        self.settings = settings
        self.root = (root or settings.omni_state_dir).resolve()
        self.postgres: EmbeddedPostgres | None = None
        self.kafka: TansuBroker | None = None
        self.s3: MotoS3 | None = None
        self.containers: Containers | None = None
        self.endpoints: Endpoints | None = None

    def start(self) -> Endpoints:
        s = self.settings
        try:
            return self._start(s)
        except BaseException:
            self.stop()
            raise

    def _start(self, s: StackSettings) -> Endpoints:
        database_url, bootstrap, s3_endpoint = s.database_url, s.kafka_bootstrap, s.s3_endpoint
        access, secret = s.s3_access_key.get_secret_value(), s.s3_secret_key.get_secret_value()
        idempotent = s.kafka_idempotent
        if s.omni_infra == "docker":
            self.containers = start_containers()
            database_url = database_url or self.containers.database_url
            bootstrap = bootstrap or self.containers.kafka_bootstrap
            if s3_endpoint is None:
                s3_endpoint = self.containers.s3_endpoint
                access, secret = self.containers.s3_access_key, self.containers.s3_secret_key
        if database_url is None:
            self.postgres = EmbeddedPostgres(self.root / "postgres")
            self.postgres.start()
            asyncio.run(ensure_database(self.postgres.admin_url, s.omni_database_name))
            database_url = _with_database(self.postgres.admin_url, s.omni_database_name)
        if bootstrap is None:
            self.kafka = TansuBroker(self.root)
            self.kafka.start()
            bootstrap = self.kafka.bootstrap
            idempotent = False if idempotent is None else idempotent
        if s3_endpoint is None:
            self.s3 = MotoS3(self.root)
            self.s3.start()
            s3_endpoint = self.s3.endpoint
        app_url = s.app_database_url or app_url_from_owner(
            database_url, s.app_db_password.get_secret_value()
        )
        self.endpoints = Endpoints(
            database_url=database_url,
            app_database_url=app_url,
            kafka_bootstrap=bootstrap,
            kafka_idempotent=True if idempotent is None else idempotent,
            kafka_fetch_max_wait_ms=20 if self.kafka is not None else None,
            s3_endpoint=s3_endpoint,
            s3_bucket=s.s3_bucket,
            s3_access_key=access,
            s3_secret_key=secret,
        )
        return self.endpoints

    def prepare(self) -> None:
        """Migrations, the app role's login, topics and the bucket: everything a service expects."""
        assert self.endpoints is not None, "start() first"
        e = self.endpoints
        upgrade(e.database_url)
        if self.settings.app_database_url is None:
            asyncio.run(
                enable_app_login(e.database_url, self.settings.app_db_password.get_secret_value())
            )
        asyncio.run(ensure_topics(KafkaSettings(bootstrap=e.kafka_bootstrap)))
        asyncio.run(ensure_bucket(e))

    def parts(self) -> dict[str, str]:
        """What runs where, for the person at the terminal."""
        assert self.endpoints is not None
        e = self.endpoints
        return {
            "postgres": _redact(e.database_url) + (" (embedded)" if self.postgres else ""),
            "kafka": e.kafka_bootstrap + (" (Tansu, embedded)" if self.kafka else ""),
            "s3": e.s3_endpoint + (" (moto, embedded)" if self.s3 else ""),
        }

    def stop(self) -> None:
        for part in (self.s3, self.kafka, self.postgres):
            if part is not None:
                part.stop()
        if self.containers is not None:
            self.containers.stop()
        self.s3 = self.kafka = self.postgres = None
        self.containers = None


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        host = parts.hostname or ""
        netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


async def ensure_bucket(e: Endpoints) -> None:
    from aiobotocore.session import get_session

    session = get_session()
    async with session.create_client(
        "s3",
        endpoint_url=e.s3_endpoint,
        aws_access_key_id=e.s3_access_key,
        aws_secret_access_key=e.s3_secret_key,
        region_name="us-east-1",
    ) as client:
        existing = await client.list_buckets()
        if not any(b.get("Name") == e.s3_bucket for b in existing.get("Buckets", [])):
            await client.create_bucket(Bucket=e.s3_bucket)
