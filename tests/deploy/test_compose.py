"""docker-compose.yml is a valid Compose file (the Compose Specification JSON schema) and runs
the system the way deploy/README.md promises: real Kafka in KRaft mode, jobs before services,
health checks on the real endpoints, restarts, secrets only from the generated env files."""

import copy
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from tests.deploy import manifests, schemas
from tests.deploy.manifests import ROOT, Manifest

JOBS = {"migrate", "topics", "minio-init"}
SECRETS = {
    "APP_DATABASE_URL",
    "DATABASE_URL",
    "APP_DB_PASSWORD",
    "POSTGRES_PASSWORD",
    "MINIO_ROOT_PASSWORD",
    "S3_SECRET_KEY",
    "CREDENTIAL_KEYS",
    "JWT_SECRET",
}


@pytest.fixture(scope="module")
def compose() -> Manifest:
    return manifests.load_compose()


def test_compose_file_follows_the_compose_specification(compose: Manifest) -> None:
    assert schemas.compose_problems(compose) == []


def test_a_broken_compose_file_fails_validation(compose: Manifest) -> None:
    broken = copy.deepcopy(compose)
    gateway = broken["services"]["gateway"]
    # A fresh mapping: YAML anchors make the services share one depends_on object.
    gateway["depends_on"] = {**gateway["depends_on"], "migrate": {"condition": "service_done"}}
    broken["services"]["kafka"]["healthcheck"]["intervall"] = "10s"
    problems = schemas.compose_problems(broken)
    assert any(p.startswith("$.services.gateway.depends_on:") for p in problems), problems
    assert any(p.startswith("$.services.kafka.healthcheck: 'intervall'") for p in problems)


def test_kafka_is_apache_kafka_in_kraft_mode_and_producers_are_idempotent(
    compose: Manifest,
) -> None:
    kafka = compose["services"]["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    assert set(kafka["environment"]["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert str(kafka["environment"]["KAFKA_AUTO_CREATE_TOPICS_ENABLE"]) == "false"
    for process in manifests.compose_processes(compose):
        if "KAFKA_BOOTSTRAP" in process.env:
            assert process.value("KAFKA_IDEMPOTENT") == "true", process.unit


def test_services_wait_for_healthy_infrastructure_and_finished_jobs(compose: Manifest) -> None:
    for process in manifests.compose_processes(compose):
        if not process.is_service or process.key == "simulator":
            continue
        deps = compose["services"][process.unit]["depends_on"]
        assert deps["postgres"]["condition"] == "service_healthy", process.unit
        assert deps["kafka"]["condition"] == "service_healthy", process.unit
        assert deps["migrate"]["condition"] == "service_completed_successfully", process.unit
        assert deps["topics"]["condition"] == "service_completed_successfully", process.unit


def test_every_long_running_container_has_a_health_check_and_a_restart_policy(
    compose: Manifest,
) -> None:
    for name, service in compose["services"].items():
        if name in JOBS:
            assert service["restart"] == "no", name
            continue
        assert service.get("restart") in {"unless-stopped", "always", "on-failure"}, name
        assert service.get("healthcheck", {}).get("test"), name


def test_service_health_checks_ask_the_port_the_process_serves(compose: Manifest) -> None:
    for process in manifests.compose_processes(compose):
        if not process.is_service:
            continue
        probe = " ".join(compose["services"][process.unit]["healthcheck"]["test"])
        found = re.search(r"http://127\.0\.0\.1:(\d+)/(healthz|readyz)", probe)
        assert found, f"{process.unit}: health check does not ask /healthz or /readyz"
        expected = process.value("OPS_PORT") or ("8090" if process.key == "simulator" else "8080")
        assert found[1] == expected, process.unit


def test_only_the_simulator_is_in_the_demo_profile(compose: Manifest) -> None:
    profiles = {n: s["profiles"] for n, s in compose["services"].items() if "profiles" in s}
    assert profiles == {"simulator": ["demo"]}


def test_no_secret_is_written_into_the_compose_file(compose: Manifest) -> None:
    for name, service in compose["services"].items():
        env = service.get("environment") or {}
        assert SECRETS.isdisjoint(env), f"{name} sets a secret inline: use the env files"


def test_make_secrets_fills_every_token_consistently(tmp_path: Path) -> None:
    source = ROOT / "deploy" / "compose"
    for name in ("make_secrets.py", "owner.env.example", "app.env.example"):
        (tmp_path / name).write_text((source / name).read_text())
    subprocess.run([sys.executable, str(tmp_path / "make_secrets.py")], check=True, timeout=30)
    owner = _read_env(tmp_path / "owner.env")
    app = _read_env(tmp_path / "app.env")
    assert "@@" not in (tmp_path / "owner.env").read_text() + (tmp_path / "app.env").read_text()
    # The app role's password the migration sets is the one the services connect with.
    assert f":{owner['APP_DB_PASSWORD']}@" in app["APP_DATABASE_URL"]
    assert f":{owner['POSTGRES_PASSWORD']}@" in owner["DATABASE_URL"]
    assert owner["POSTGRES_PASSWORD"] != owner["APP_DB_PASSWORD"]
    Fernet(app["CREDENTIAL_KEYS"])  # a usable key, or this raises


def _read_env(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {k: v for k, v in pairs if not k.startswith("#")}
