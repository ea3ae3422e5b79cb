"""Validators for the manifests, offline: the Compose Specification JSON schema (vendored by the
``check-jsonschema`` wheel) and the Kubernetes JSON schemas (shipped by ``kubernetes-validate``).
Each returns readable problems instead of raising, so tests can show what a broken file reports.
"""

import json
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate

from tests.deploy.manifests import Manifest

# Oldest Kubernetes the manifests target (preStop `sleep` is on by default from 1.30) and the
# newest the validator knows: both must accept the rendered output.
K8S_VERSIONS = ("1.30.0", "1.37.0")


@cache
def compose_schema() -> dict[str, Any]:
    text = files("check_jsonschema.builtin_schemas.vendor").joinpath("compose-spec.json")
    schema: dict[str, Any] = json.loads(text.read_text())
    return schema


def compose_problems(doc: Manifest) -> list[str]:
    validator = jsonschema.Draft202012Validator(
        compose_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    return [f"{err.json_path}: {err.message}" for err in validator.iter_errors(doc)]


# Custom resources the overlays use, each with the schema its operator's CRD gives it.
CRD_SCHEMAS = {"PrometheusRule": Path(__file__).with_name("prometheusrule.schema.json")}


def crd_problems(doc: Manifest) -> list[str]:
    schema = json.loads(CRD_SCHEMAS[doc["kind"]].read_text())
    validator = jsonschema.Draft202012Validator(schema)
    name = f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
    return [f"{name} at {err.json_path}: {err.message}" for err in validator.iter_errors(doc)]


def k8s_problems(docs: list[Manifest], versions: tuple[str, ...] = K8S_VERSIONS) -> list[str]:
    """Strict validation: unknown fields (a misspelt ``readinessProbe``) are errors too."""
    problems = []
    for doc in docs:
        name = f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
        if doc.get("kind") in CRD_SCHEMAS:
            problems += crd_problems(doc)
            continue
        for version in versions:
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except kubernetes_validate.ValidationError as err:
                where = "/".join(map(str, err.path))
                problems.append(f"{name} (k8s {version}) at {where}: {err.message}")
            except kubernetes_validate.SchemaNotFoundError:
                problems.append(f"{name}: no schema for this kind in Kubernetes {version}")
    return problems
