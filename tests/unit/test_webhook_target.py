"""Which requests ingest-api's bare webhook edge answers itself; the rest go to FastAPI."""

import pytest

from ingest.edge import webhook_target


@pytest.mark.parametrize(
    ("method", "path", "target"),
    [
        ("POST", "/webhooks/meta", ("meta", None)),
        ("POST", "/webhooks/zapi/k3y", ("zapi", "k3y")),
        ("POST", "/webhooks/evolution/abc-DEF_1", ("evolution", "abc-DEF_1")),
        ("GET", "/webhooks/meta/k3y", None),  # Meta's handshake is FastAPI's
        ("POST", "/webhooks/meta/", None),
        ("POST", "/webhooks//k3y", None),
        ("POST", "/webhooks/meta/k3y/extra", None),
        ("POST", "/healthz", None),
    ],
)
def test_webhook_target(method: str, path: str, target: tuple[str, str | None] | None) -> None:
    assert webhook_target(method, path) == target
