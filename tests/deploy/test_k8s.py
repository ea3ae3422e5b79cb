"""deploy/k8s renders with the real ``kubectl kustomize``, every object validates against the
Kubernetes schemas (strict), and the objects fit together: probes on the ports the processes
serve, autoscaling bounded by partitions, budgets, services and ingresses that select something,
no secret in the repository."""

import shutil
from pathlib import Path

import pytest

from contracts import topics
from tests.deploy import manifests, schemas
from tests.deploy.manifests import K8S, Manifest, by_name, objects, omni_container, pod_spec

# The consumer groups and the topic each reads: partitions bound useful replicas.
CONSUMES = {
    "ingest-worker": topics.INBOUND,
    "dispatcher": topics.OUTBOUND,
    "media-worker": topics.MEDIA,
}
AUTOSCALED = {"ingest-api", "gateway", *CONSUMES}
SECRET_VARIABLES = {
    "APP_DATABASE_URL",
    "DATABASE_URL",
    "APP_DB_PASSWORD",
    "S3_ACCESS_KEY",
    "S3_SECRET_KEY",
    "CREDENTIAL_KEYS",
    "JWT_SECRET",
}


@pytest.fixture(scope="module", params=manifests.KUSTOMIZATIONS, ids=lambda p: p.name)
def rendered(request: pytest.FixtureRequest) -> list[Manifest]:
    return manifests.render(request.param)


def test_rendered_manifests_validate_against_the_kubernetes_schemas(
    rendered: list[Manifest],
) -> None:
    assert schemas.k8s_problems(rendered) == []


def test_a_misspelt_field_fails_validation(tmp_path: Path) -> None:
    copy = tmp_path / "k8s"
    shutil.copytree(K8S, copy)
    gateway = copy / "base" / "gateway.yaml"
    gateway.write_text(gateway.read_text().replace("readinessProbe:", "readinesProbe:"))
    problems = schemas.k8s_problems(manifests.render(copy / "base"))
    assert problems, "a misspelt readinessProbe passed validation"
    assert all(p.startswith("Deployment/gateway") for p in problems), problems
    assert "readinesProbe" in problems[0]


def test_a_wrong_type_fails_validation(tmp_path: Path) -> None:
    copy = tmp_path / "k8s"
    shutil.copytree(K8S, copy)
    hpa = copy / "base" / "dispatcher.yaml"
    hpa.write_text(hpa.read_text().replace("maxReplicas: 12", "maxReplicas: twelve"))
    problems = schemas.k8s_problems(manifests.render(copy / "base"))
    assert any(p.startswith("HorizontalPodAutoscaler/dispatcher") for p in problems), problems


def test_a_broken_kustomization_does_not_render(tmp_path: Path) -> None:
    copy = tmp_path / "k8s"
    shutil.copytree(K8S, copy)
    (copy / "base" / "gateway.yaml").unlink()
    with pytest.raises(manifests.RenderError, match=r"gateway\.yaml"):
        manifests.render(copy / "overlays" / "example")


def test_one_deployment_per_process_with_probes_on_the_port_it_serves(
    rendered: list[Manifest],
) -> None:
    for name, deployment in by_name(rendered, "Deployment").items():
        container = omni_container(deployment)
        assert container is not None, name
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        env = {e["name"]: e.get("value") for e in container.get("env", [])}
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", name
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", name
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            port = ports[container[probe]["httpGet"]["port"]]
            # Workers serve their ops endpoints on OPS_PORT; HTTP services on 8080.
            assert port == int(env.get("OPS_PORT") or 8080), f"{name} {probe}"
        for kind in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(container["resources"][kind]), f"{name} {kind}"
        assert pod_spec(deployment)["terminationGracePeriodSeconds"] >= 30, name
        assert pod_spec(deployment)["securityContext"]["runAsNonRoot"] is True, name


def test_autoscaling_covers_the_edges_and_consumers_within_their_partitions(
    rendered: list[Manifest],
) -> None:
    deployments = by_name(rendered, "Deployment")
    hpas = by_name(rendered, "HorizontalPodAutoscaler")
    assert set(hpas) == AUTOSCALED
    for name, hpa in hpas.items():
        target = hpa["spec"]["scaleTargetRef"]
        assert (target["kind"], target["name"]) == ("Deployment", name)
        assert name in deployments
        assert "replicas" not in deployments[name]["spec"], f"{name}: the HPA owns replicas"
    assert _partition_overruns(hpas) == []


def _partition_overruns(hpas: dict[str, Manifest]) -> list[str]:
    return [
        f"{name}: maxReplicas {hpas[name]['spec']['maxReplicas']} > "
        f"{topics.BY_NAME[topic].partitions} partitions of {topic}"
        for name, topic in CONSUMES.items()
        if hpas[name]["spec"]["maxReplicas"] > topics.BY_NAME[topic].partitions
    ]


def test_a_consumer_scaled_past_its_partitions_is_reported(rendered: list[Manifest]) -> None:
    hpas = by_name(rendered, "HorizontalPodAutoscaler")
    hpas["media-worker"]["spec"]["maxReplicas"] = 7
    assert _partition_overruns(hpas) == ["media-worker: maxReplicas 7 > 6 partitions of omni.media"]


def test_every_deployment_has_a_disruption_budget_that_selects_it(
    rendered: list[Manifest],
) -> None:
    pdbs = by_name(rendered, "PodDisruptionBudget")
    for name, deployment in by_name(rendered, "Deployment").items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        selector = pdbs[name]["spec"]["selector"]["matchLabels"]
        assert selector.items() <= labels.items(), name


def test_services_and_ingresses_point_at_something_real(rendered: list[Manifest]) -> None:
    deployments = by_name(rendered, "Deployment")
    services = by_name(rendered, "Service")
    for name, service in services.items():
        matched = [
            d
            for d in deployments.values()
            if service["spec"]["selector"].items()
            <= d["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert len(matched) == 1, name
        container = omni_container(matched[0])
        assert container is not None
        port_names = {p["name"] for p in container["ports"]}
        assert {p["targetPort"] for p in service["spec"]["ports"]} <= port_names, name
    backends = set()
    for ingress in objects(rendered, "Ingress"):
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                svc = path["backend"]["service"]
                assert svc["name"] in services, svc
                ports = {p["name"] for p in services[svc["name"]]["spec"]["ports"]}
                assert svc["port"]["name"] in ports, svc
                backends.add(svc["name"])
    assert {"ingest-api", "gateway"} <= backends


def test_migration_runs_as_a_job_and_no_secret_lives_in_the_repository(
    rendered: list[Manifest],
) -> None:
    assert list(objects(rendered, "Secret")) == []
    assert "omni-migrate" in by_name(rendered, "Job")
    for configmap in objects(rendered, "ConfigMap"):
        assert SECRET_VARIABLES.isdisjoint(configmap.get("data", {}))
    for workload in [*objects(rendered, "Deployment"), *objects(rendered, "Job")]:
        container = omni_container(workload)
        assert container is not None
        for item in container.get("env", []):
            if item["name"] in SECRET_VARIABLES:
                assert "secretKeyRef" in item.get("valueFrom", {}), item["name"]
