"""The whole system (every service as its own process, the simulator as the customers) with
the web inbox served by the gateway, and Debian's Chromium driven by Playwright.

The browser reaches the gateway and media-api through relays the test can cut (proxy.py), so a
network outage is real: open connections die and new ones are refused.
"""

import os
import shutil
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from playwright.async_api import Browser, async_playwright
from pydantic import SecretStr

from auth.tokens import mint
from config import AuthSettings
from contracts import Provider
from credentials import Vault
from db.provision import insert_tenant, upsert_member
from devstack.demo import WiredIntegration, wire_demo
from devstack.services import SPECS, ServiceSet
from devstack.stack import Endpoints
from devstack.web import build_web
from omnicli.dev import sign_in_url
from tests.e2e.web.proxy import CuttableProxy

CHROMIUM = os.environ.get("OMNI_CHROMIUM", "/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[3]
WEB = ROOT / "web"
SCREENSHOTS = ROOT / "docs" / "screenshots"


@pytest.fixture(scope="package")
def chromium() -> str:
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)")
    return CHROMIUM


@pytest.fixture(scope="package")
def web_built() -> Path:
    if shutil.which("npm") is None:
        pytest.skip("browser tests need npm to build web/ (Node.js 20+)")
    built, how = build_web(WEB)
    assert built, f"web/ did not build: {how}"
    return WEB / "dist"


@dataclass(frozen=True)
class Inbox:
    """The running system as the browser sees it."""

    urls: dict[str, str]  # direct addresses (the test's own REST calls, the simulator)
    gateway: CuttableProxy  # the browser's way to the gateway (its page origin)
    media: CuttableProxy  # the browser's way to media-api
    auth: AuthSettings
    tenant_id: UUID
    wired: dict[Provider, WiredIntegration]

    def token(self, user: str = "agent-1", ttl_s: int = 3600) -> str:
        return mint(self.auth, tenant_id=self.tenant_id, user_id=user, role="agent", ttl_s=ttl_s)

    def sign_in_url(self) -> str:
        return sign_in_url(self.gateway.origin, self.token(), self.media.origin)

    def cut(self) -> None:
        self.gateway.cut()
        self.media.cut()

    def restore(self) -> None:
        self.gateway.restore()
        self.media.restore()


@pytest.fixture(scope="package")
def services(
    web_built: Path,
    stack: Endpoints,
    stack_env: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[ServiceSet, CuttableProxy, CuttableProxy]]:
    holder: dict[str, ServiceSet] = {}
    gateway = CuttableProxy(lambda: holder["set"].ports["gateway"])
    media = CuttableProxy(lambda: holder["set"].ports["media-api"])
    env = {
        **stack_env,
        "GATEWAY_ALLOWED_ORIGINS": gateway.origin,
        "MEDIA_ALLOWED_ORIGINS": gateway.origin,
        "GATEWAY_WEB_DIR": str(web_built),
    }
    logs = tmp_path_factory.mktemp("web-logs")
    holder["set"] = ServiceSet([s.name for s in SPECS], env, logs, sys.executable)
    gateway.start()
    media.start()
    try:
        # Late in a full run the embedded broker holds every earlier test's records and its
        # group coordinator answers slowly: a worker's first join can outlast a minute.
        holder["set"].start(timeout_s=240)
        yield holder["set"], gateway, media
    finally:
        holder["set"].stop()
        gateway.stop()
        media.stop()


@pytest.fixture(scope="package")
async def inbox(
    services: tuple[ServiceSet, CuttableProxy, CuttableProxy],
    stack: Endpoints,
    stack_env: dict[str, str],
    vault: Vault,
    owner_conn,  # type: ignore[no-untyped-def]
) -> Inbox:
    service_set, gateway, media = services
    tenant_id = uuid4()
    async with owner_conn.transaction():
        await owner_conn.execute("SELECT set_config('app.tenant_id', $1, true)", str(tenant_id))
        await insert_tenant(
            owner_conn, tenant_id=tenant_id, name="Web", slug=f"w-{tenant_id.hex[:20]}"
        )
        await upsert_member(owner_conn, tenant_id=tenant_id, user_id="agent-1", role="agent")
    wired = await wire_demo(
        stack.database_url,
        vault,
        tenant_id=tenant_id,
        sim_url=service_set.urls["simulator"],
        ingest_url=service_set.urls["ingest-api"],
        account_prefix=f"web-{tenant_id.hex[:8]}",
        # Spaced so that each status (sent, delivered, read) is its own moment on screen.
        status_delay_s=0.5,
    )
    auth = AuthSettings(
        algorithm="HS256",
        secret=SecretStr(stack_env["JWT_SECRET"]),
        issuer=stack_env["JWT_ISSUER"],
        audience=stack_env["JWT_AUDIENCE"],
    )
    return Inbox(service_set.urls, gateway, media, auth, tenant_id, {w.provider: w for w in wired})


@pytest.fixture(scope="package")
async def browser(chromium: str) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
        launched = await playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            await launched.close()
