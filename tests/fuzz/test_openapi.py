"""schemathesis against the OpenAPI the gateway and media-api serve, each a real process over
real Postgres, broker and bucket, called with a valid agent token: no answer is a 5xx, and every
status is one the operation documents."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error, status_code_conformance
from schemathesis.schemas import BaseSchema

CHECKS = [not_a_server_error, status_code_conformance]
# Bounded: a few dozen requests per operation keep each app's run short.
BOUNDED = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)


@pytest.fixture
def gateway_schema(gateway_url: str) -> BaseSchema:
    return schemathesis.openapi.from_url(f"{gateway_url}/openapi.json")


@pytest.fixture
def media_api_schema(media_api_url: str) -> BaseSchema:
    return schemathesis.openapi.from_url(f"{media_api_url}/openapi.json")


gateway = schemathesis.pytest.from_fixture("gateway_schema")
media_api = schemathesis.pytest.from_fixture("media_api_schema")


@pytest.mark.timeout(600)  # the whole API in one test item, on a shared 2-core machine
@gateway.parametrize()
@BOUNDED
def test_gateway_answers_only_documented_statuses_and_no_5xx(
    case: schemathesis.Case, gateway_url: str, agent_headers: dict[str, str]
) -> None:
    case.call_and_validate(base_url=gateway_url, headers=agent_headers, checks=CHECKS)


@pytest.mark.timeout(600)
@media_api.parametrize()
@BOUNDED
def test_media_api_answers_only_documented_statuses_and_no_5xx(
    case: schemathesis.Case, media_api_url: str, agent_headers: dict[str, str]
) -> None:
    case.call_and_validate(base_url=media_api_url, headers=agent_headers, checks=CHECKS)
