"""Every variable a deployed process cannot start without is set for it, in compose and in each
kustomization; the settings classes are discovered at test time (settings_discovery)."""

from pathlib import Path

import pytest
from pydantic_settings import BaseSettings

from tests.deploy import manifests, settings_discovery
from tests.deploy.manifests import Process
from tests.deploy.settings_discovery import Requirement


def _gaps(processes: list[Process]) -> list[str]:
    needs = settings_discovery.required_by_process()
    gaps = []
    for process in processes:
        for req in settings_discovery.missing(process.env, needs.get(process.key, [])):
            gaps.append(
                f"{process.where} {process.unit}: {' or '.join(req.names)} "
                f"(required by {req.settings}.{req.field})"
            )
    return gaps


def test_discovery_finds_the_shared_settings_and_their_required_variables() -> None:
    needs = settings_discovery.required_by_process()
    names = {name for req in needs["gateway"] for name in req.names}
    assert {"APP_DATABASE_URL", "KAFKA_BOOTSTRAP", "CREDENTIAL_KEYS"} <= names
    assert {name for req in needs["migrate"] for name in req.names} == {"DATABASE_URL"}
    assert {name for req in needs["topics"] for name in req.names} == {"KAFKA_BOOTSTRAP"}


def test_every_compose_process_gets_every_variable_it_requires() -> None:
    processes = manifests.compose_processes(manifests.load_compose())
    assert {p.key for p in processes} >= {"migrate", "topics", *settings_discovery.SERVICES}
    gaps = _gaps(processes)
    assert not gaps, "variables not set:\n" + "\n".join(gaps)


@pytest.mark.parametrize("kustomization", manifests.KUSTOMIZATIONS, ids=lambda p: p.name)
def test_every_k8s_process_gets_every_variable_it_requires(kustomization: Path) -> None:
    processes = manifests.k8s_processes(manifests.render(kustomization), kustomization.name)
    assert {p.key for p in processes} >= {"migrate", "topics", *settings_discovery.SERVICES}
    gaps = _gaps(processes)
    assert not gaps, "variables not set:\n" + "\n".join(gaps)


def test_a_process_missing_a_required_variable_is_reported() -> None:
    processes = manifests.compose_processes(manifests.load_compose())
    gateway = next(p for p in processes if p.key == "gateway")
    stripped = Process(
        gateway.where, gateway.unit, gateway.argv, gateway.env - {"APP_DATABASE_URL"}
    )
    assert _gaps([stripped]) == [
        "compose gateway: APP_DATABASE_URL (required by config.shared.DatabaseSettings"
        ".app_database_url)"
    ]


def test_an_alias_choice_is_met_by_any_of_its_names() -> None:
    req = Requirement("x.Settings", "url", ("A_URL", "B_URL"))
    assert req.met_by(frozenset({"b_url"}))
    assert not req.met_by(frozenset({"C_URL"}))


@pytest.mark.parametrize(
    ("class_name", "expected"),
    [
        ("Settings", ("media-worker", "media-api")),
        ("MediaSettings", ("media-worker", "media-api")),
        ("WorkerSettings", ("media-worker",)),
        ("MediaApiSettings", ("media-api",)),
    ],
)
def test_a_service_settings_class_applies_to_the_processes_its_name_points_at(
    class_name: str, expected: tuple[str, ...]
) -> None:
    # A module that does not exist: discovery never sees this class, only the mapping does.
    cls = type(class_name, (BaseSettings,), {"__module__": "media.not_a_module"})
    assert settings_discovery.processes_reading(cls) == expected
