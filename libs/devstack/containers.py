"""The deployment images (Apache Kafka in KRaft mode, PostgreSQL, MinIO) via testcontainers,
for running the same suite against them where a Docker engine exists (``OMNI_INFRA=docker``)."""

from dataclasses import dataclass
from typing import Any


class DockerUnavailable(RuntimeError):
    pass


def docker_available() -> tuple[bool, str]:
    try:
        import docker

        docker.from_env().ping()
        return True, ""
    except Exception as exc:
        return False, f"no Docker engine reachable ({type(exc).__name__}: {exc})"


@dataclass
class Containers:
    started: list[Any]
    database_url: str
    kafka_bootstrap: str
    s3_endpoint: str
    s3_access_key: str
    s3_secret_key: str

    def stop(self) -> None:
        for container in reversed(self.started):
            container.stop()


def start_containers() -> Containers:
    ok, reason = docker_available()
    if not ok:
        raise DockerUnavailable(reason)
    from testcontainers.kafka import KafkaContainer
    from testcontainers.minio import MinioContainer
    from testcontainers.postgres import PostgresContainer

    postgres = PostgresContainer("postgres:18-alpine", driver=None).start()
    kafka = KafkaContainer("confluentinc/cp-kafka:7.9.0").with_kraft().start()
    minio = MinioContainer("minio/minio:latest").start()
    config = minio.get_config()
    return Containers(
        started=[postgres, kafka, minio],
        database_url=postgres.get_connection_url(),
        kafka_bootstrap=kafka.get_bootstrap_server(),
        s3_endpoint=f"http://{config['endpoint']}",
        s3_access_key=config["access_key"],
        s3_secret_key=config["secret_key"],
    )
