"""How the inbox is served and signed into: the gateway serves web/dist at / beside the API,
``omni dev`` builds it only when its sources changed and prints a sign-in link whose token is
in the fragment, and the services let the inbox's origin in."""

import re
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from devstack.services import service_env
from devstack.web import build_web, sources_hash
from omnicli.dev import sign_in_url
from tests.e2e.web.conftest import WEB, Inbox

# The first test of the package starts every service (and builds web/ when it changed).
pytestmark = pytest.mark.timeout(600)


async def test_the_gateway_serves_the_inbox_beside_the_api(inbox: Inbox) -> None:
    async with httpx.AsyncClient(base_url=inbox.urls["gateway"], timeout=20) as http:
        index = await http.get("/")
        assert index.status_code == 200
        assert index.headers["content-type"].startswith("text/html")
        assert '<div id="root">' in index.text
        script = re.search(r'src="(/assets/[^"]+\.js)"', index.text)
        assert script, index.text
        asset = await http.get(script[1])
        assert asset.status_code == 200
        assert "javascript" in asset.headers["content-type"]
        # The inbox's own paths load the app (a reload on a deep link works) ...
        deep = await http.get("/conversations/anything")
        assert deep.status_code == 200 and '<div id="root">' in deep.text
        # ... while the API keeps its answers: unknown API paths are 404, not the app.
        missing = await http.get("/v1/no-such-resource")
        assert missing.status_code == 404
        assert not missing.headers["content-type"].startswith("text/html")
        assert (await http.get("/v1/conversations")).status_code == 401
        assert (await http.get("/docs")).status_code == 200
        assert (await http.get("/healthz")).status_code == 404  # the ops port's, not the app


def test_the_sign_in_link_carries_the_token_in_the_fragment_only() -> None:
    link = sign_in_url("http://127.0.0.1:8080", "aaa.bbb.ccc", "http://127.0.0.1:8020")
    parts = urlsplit(link)
    assert parts.query == ""  # never sent to a server, never in an access log
    assert parts.path == "/"
    assert parts.fragment == "token=aaa.bbb.ccc&media=http%3A%2F%2F127.0.0.1%3A8020"
    assert urlsplit(sign_in_url("https://api.example.com", "t", None)).fragment == "token=t"


def test_the_inbox_origin_may_open_the_websocket_and_fetch_media() -> None:
    ports = {"gateway": 8080, "media-api": 8020}
    env = service_env("gateway", ports, {"GATEWAY_ALLOWED_ORIGINS": "https://host.example"})
    assert env["GATEWAY_ALLOWED_ORIGINS"].split(",") == [
        "https://host.example",
        "http://127.0.0.1:8080",
        "http://localhost:8080",
    ]
    assert env["MEDIA_ALLOWED_ORIGINS"].split(",") == [
        "http://127.0.0.1:8080",
        "http://localhost:8080",
    ]


def test_the_web_build_reruns_only_when_its_sources_change(web_built: Path) -> None:
    before = sources_hash(WEB)
    assert (web_built / f".built-{before}").is_file()
    assert build_web(WEB) == (True, "up to date")
    assert sources_hash(WEB) == before


def test_without_a_web_folder_the_build_says_why_and_does_not_raise(tmp_path: Path) -> None:
    assert build_web(tmp_path) == (False, "no web/ folder")
