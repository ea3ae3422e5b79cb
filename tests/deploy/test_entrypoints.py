"""Every process the manifests start is something `omni` can run: `omni run NAME` names a
registered entry point, and every other command parses with the real CLI.

Services land on their own branches: a planned name that is not registered yet is skipped with
the reason, and enforced the moment it is registered. A name that is neither planned nor
registered (a typo) fails at once.
"""

import importlib

import pytest

from omnicli.entrypoints import ENTRYPOINTS
from omnicli.main import build_parser
from tests.deploy import manifests
from tests.deploy.manifests import Process

# name -> where it comes from (docs/design.md). Drop nothing from here; it is the plan.
PLANNED = {
    "ingest-api": "services/ingest",
    "ingest-worker": "services/ingest",
    "dispatcher": "services/dispatcher",
    "media-worker": "services/media",
    "media-api": "services/media",
    "gateway": "services/realtime",
    "lag-exporter": "libs/bus",
    "simulator": "libs/simulator",
}
COMPOSE_ONLY = {"simulator"}  # a demo of the customer side, not a production workload


def _all_processes() -> list[Process]:
    found = manifests.compose_processes(manifests.load_compose())
    for kustomization in manifests.KUSTOMIZATIONS:
        found += manifests.k8s_processes(manifests.render(kustomization), kustomization.name)
    return found


@pytest.fixture(scope="module")
def processes() -> list[Process]:
    return _all_processes()


def _unknown_entry_points(processes: list[Process]) -> set[str]:
    return {
        f"{p.where} {p.unit}: {p.key}"
        for p in processes
        if p.is_service and p.key not in PLANNED and p.key not in ENTRYPOINTS
    }


def _unparsable_commands(processes: list[Process]) -> set[str]:
    parser = build_parser()
    bad = set()
    for p in processes:
        try:
            parser.parse_args(list(p.argv))
        except SystemExit:
            bad.add(f"{p.where} {p.unit}: omni {' '.join(p.argv)}")
    return bad


def test_manifests_only_name_planned_or_registered_entry_points(processes: list[Process]) -> None:
    assert _unknown_entry_points(processes) == set()


@pytest.mark.parametrize("name", sorted(PLANNED))
def test_planned_entry_point_is_registered_and_importable(
    name: str, processes: list[Process]
) -> None:
    assert name in {p.key for p in processes if p.is_service}, f"{name} is deployed nowhere"
    if name not in ENTRYPOINTS:
        pytest.skip(f"{name!r} not registered in ENTRYPOINTS yet (lands with {PLANNED[name]})")
    module, _, func = ENTRYPOINTS[name].partition(":")
    assert callable(getattr(importlib.import_module(module), func))


def test_every_registered_entry_point_is_deployed(processes: list[Process]) -> None:
    deployed: dict[str, set[str]] = {}
    for p in processes:
        if p.is_service:
            deployed.setdefault(p.where, set()).add(p.key)
    for where, names in deployed.items():
        expected = set(ENTRYPOINTS) - (COMPOSE_ONLY if where != "compose" else set())
        assert expected - names == set(), f"{where} does not run {sorted(expected - names)}"


def test_every_command_parses_with_the_omni_cli(processes: list[Process]) -> None:
    assert _unparsable_commands(processes) == set()


def test_a_misspelt_entry_point_or_command_is_reported(capsys: pytest.CaptureFixture[str]) -> None:
    typo = Process("compose", "ingest-api", ("run", "ingest-apii"), frozenset())
    assert _unknown_entry_points([typo]) == {"compose ingest-api: ingest-apii"}
    job = Process("compose", "topics", ("topics", "create", "--replication", "x"), frozenset())
    assert _unparsable_commands([job]) == {"compose topics: omni topics create --replication x"}
