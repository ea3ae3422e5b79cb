"""media-api over real HTTP, Postgres (RLS) and S3: uploads streamed to storage under WhatsApp's
limits, downloads only for the caller's tenant, through short-lived URLs."""

import time
from collections.abc import AsyncIterator, Callable
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import httpx
import jwt
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from auth.tokens import mint
from config.shared import AuthSettings, DatabaseSettings, S3Settings
from contracts import MediaRef, MessageType, Provider
from credentials import Vault
from db.tenant import tenant_tx
from media.api import create_app
from media.settings import MediaSettings
from tests.conftest import TEST_SECRETS
from tests.media import payloads, rows
from tests.media.servers import serving

MakeTenant = Callable[..., Any]

AUTH = AuthSettings(
    algorithm="HS256",
    secret=SecretStr(TEST_SECRETS["JWT_SECRET"]),
    issuer=TEST_SECRETS["JWT_ISSUER"],
    audience=TEST_SECRETS["JWT_AUDIENCE"],
)


@pytest.fixture(scope="session")
def media_app(db_settings: DatabaseSettings, s3_settings: S3Settings) -> FastAPI:
    return create_app(MediaSettings(presign_ttl_s=60), AUTH, db_settings, s3_settings)


@pytest.fixture(scope="session")
async def api(media_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with (
        serving(media_app) as port,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client,
    ):
        yield client


def token(tenant_id: UUID, user: str = "agent-1", **overrides: Any) -> dict[str, str]:
    if not overrides:
        return {
            "Authorization": f"Bearer {mint(AUTH, tenant_id=tenant_id, user_id=user, role='agent')}"
        }
    now = int(time.time())
    claims = {
        "sub": user,
        "tenant_id": str(tenant_id),
        "role": "agent",
        "iss": AUTH.issuer,
        "aud": AUTH.audience,
        "iat": now,
        "exp": now + 600,
    }
    secret = overrides.pop("secret", TEST_SECRETS["JWT_SECRET"])
    claims.update(overrides)
    return {"Authorization": f"Bearer {jwt.encode(claims, secret, algorithm='HS256')}"}


async def upload(
    api: httpx.AsyncClient,
    tenant_id: UUID,
    data: bytes,
    *,
    filename: str = "photo.jpg",
    claimed: str = "image/jpeg",
    media_type: str | None = None,
) -> httpx.Response:
    params = {"media_type": media_type} if media_type else {}
    return await api.post(
        "/v1/media",
        params=params,
        headers=token(tenant_id),
        files={"file": (filename, data, claimed)},
        data={"caption": "ignored"},
    )


async def outbound_message(
    app_pool: asyncpg.Pool, vault: Vault, tenant_id: UUID, reference: dict[str, Any]
) -> UUID:
    """A sent message carrying an uploaded file, as the gateway records it."""
    integration_id = await rows.integration(
        app_pool, vault, tenant_id, provider=Provider.META, base_url=None, credentials={"t": "x"}
    )
    inbound = await rows.inbound_media(
        app_pool,
        tenant_id,
        integration_id,
        provider=Provider.META,
        message_type=MessageType.IMAGE,
        ref=MediaRef(provider_ref="unused"),
    )
    async with tenant_tx(app_pool, tenant_id) as conn:
        await conn.execute(
            "UPDATE messages SET direction = 'outbound', status = 'sent', media_state = 'stored', "
            "media_key = $2, media_mime = $3, media_size = $4, media_sha256 = $5, "
            "media_filename = $6 WHERE id = $1",
            inbound.message_id,
            reference["media_key"],
            reference["mime"],
            reference["size"],
            reference["sha256"],
            reference["filename"],
        )
    return inbound.message_id


async def test_upload_then_download_returns_the_same_bytes(
    api: httpx.AsyncClient, app_pool: asyncpg.Pool, vault: Vault, make_tenant: MakeTenant
) -> None:
    tenant_id = await make_tenant()
    data = payloads.whole("jpg", 300_000, f"up-{tenant_id}")

    answer = await upload(api, tenant_id, data, filename="../../holiday photo.jpg")

    assert answer.status_code == 201, answer.text
    reference = answer.json()
    assert reference["media_type"] == "image"
    assert reference["mime"] == "image/jpeg"
    assert reference["size"] == len(data)
    assert reference["sha256"] == payloads.sha256_of("jpg", 300_000, f"up-{tenant_id}")
    assert reference["media_key"] == f"{tenant_id}/sha256/{reference['sha256']}"
    assert reference["filename"] == "holiday photo.jpg"

    message_id = await outbound_message(app_pool, vault, tenant_id, reference)
    redirect = await api.get(f"/v1/media/{message_id}", headers=token(tenant_id))
    assert redirect.status_code == 307
    assert redirect.headers["cache-control"] == "private, no-store"
    async with httpx.AsyncClient(timeout=30) as browser:
        served = await browser.get(redirect.headers["location"])
    assert served.status_code == 200
    assert served.content == data
    assert served.headers["content-type"] == "image/jpeg"
    assert served.headers["content-disposition"].startswith('inline; filename="holiday photo.jpg"')


async def test_another_tenants_media_is_not_found_not_forbidden(
    api: httpx.AsyncClient, app_pool: asyncpg.Pool, vault: Vault, make_tenant: MakeTenant
) -> None:
    tenant_a, tenant_b = await make_tenant("A"), await make_tenant("B")
    reference = (await upload(api, tenant_a, payloads.whole("png", 2000, "a-only"))).json()
    message_id = await outbound_message(app_pool, vault, tenant_a, reference)

    as_b = await api.get(f"/v1/media/{message_id}", headers=token(tenant_b))
    missing = await api.get(f"/v1/media/{uuid4()}", headers=token(tenant_b))
    not_an_id = await api.get("/v1/media/not-a-uuid", headers=token(tenant_b))

    assert as_b.status_code == missing.status_code == not_an_id.status_code == 404
    assert as_b.json() == missing.json()  # nothing tells the two apart
    assert "location" not in as_b.headers
    assert (await api.get(f"/v1/media/{message_id}", headers=token(tenant_a))).status_code == 307


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(lambda t: token(t, exp=int(time.time()) - 3600), id="expired"),
        pytest.param(lambda t: token(t, secret="not-the-secret" * 3), id="forged"),
        pytest.param(lambda t: token(t, aud="someone-else"), id="wrong-audience"),
        pytest.param(lambda t: {"Authorization": "Bearer garbage"}, id="garbage"),
        pytest.param(lambda t: {}, id="missing"),
    ],
)
async def test_bad_tokens_get_401(
    api: httpx.AsyncClient, make_tenant: MakeTenant, headers: Callable[[UUID], dict[str, str]]
) -> None:
    tenant_id = await make_tenant()
    download = await api.get(f"/v1/media/{uuid4()}", headers=headers(tenant_id))
    posted = await api.post(
        "/v1/media", headers=headers(tenant_id), files={"file": ("a.jpg", b"x", "image/jpeg")}
    )
    assert download.status_code == posted.status_code == 401
    assert download.json()["code"] == "unauthorized"
    assert download.headers["www-authenticate"].startswith("Bearer")


async def test_a_valid_token_of_a_non_member_is_refused(
    api: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    tenant_id = await make_tenant()
    answer = await api.get(f"/v1/media/{uuid4()}", headers=token(tenant_id, user="stranger"))
    assert answer.status_code == 403


async def test_an_upload_is_refused_by_its_sniffed_type_not_its_claim(
    api: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    tenant_id = await make_tenant()
    page = payloads.whole("html", 200, "x")
    answer = await upload(api, tenant_id, page, filename="cat.jpg", claimed="image/jpeg")
    assert answer.status_code == 415
    assert answer.json()["code"] == "type_not_allowed"
    as_document = await upload(api, tenant_id, page, filename="cat.html", media_type="document")
    assert as_document.status_code == 415


async def test_an_upload_over_its_kinds_limit_is_refused(
    api: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    tenant_id = await make_tenant()
    sticker = payloads.whole("webp", 600 * 1024, "fat")
    answer = await upload(api, tenant_id, sticker, filename="s.webp", claimed="image/webp")
    assert answer.status_code == 413
    assert answer.json()["code"] == "too_large"
    image = payloads.whole("jpg", 6 * 1024 * 1024, "big")
    answer = await upload(api, tenant_id, image, media_type="image")
    assert answer.status_code == 413


async def test_a_document_keeps_its_type_and_is_offered_as_a_download(
    api: httpx.AsyncClient, app_pool: asyncpg.Pool, vault: Vault, make_tenant: MakeTenant
) -> None:
    tenant_id = await make_tenant()
    data = payloads.whole("pdf", 50_000, "doc")
    answer = await upload(api, tenant_id, data, filename="q1;report.pdf", claimed="application/pdf")
    reference = answer.json()
    assert (reference["media_type"], reference["mime"]) == ("document", "application/pdf")
    message_id = await outbound_message(app_pool, vault, tenant_id, reference)
    redirect = await api.get(f"/v1/media/{message_id}", headers=token(tenant_id))
    async with httpx.AsyncClient(timeout=30) as browser:
        served = await browser.get(redirect.headers["location"])
    assert served.content == data
    assert served.headers["content-disposition"].startswith('attachment; filename="q1_report.pdf"')


async def test_ops_endpoints_on_the_ops_app_only(
    api: httpx.AsyncClient, media_app: FastAPI
) -> None:
    async with (
        serving(media_app.state.ops) as port,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as ops,
    ):
        assert (await ops.get("/healthz")).status_code == 200
        assert (await ops.get("/readyz")).json()["status"] == "ready"
        assert "media_uploads_total" in (await ops.get("/metrics")).text
    for path in ("/healthz", "/readyz", "/metrics"):
        assert (await api.get(path)).status_code == 404, path


async def test_malformed_requests_are_problems_with_a_code(
    api: httpx.AsyncClient, make_tenant: MakeTenant
) -> None:
    tenant_id = await make_tenant()
    bogus_kind = await api.post(
        "/v1/media",
        params={"media_type": "hologram"},
        headers=token(tenant_id),
        files={"file": ("a.jpg", b"x", "image/jpeg")},
    )
    assert (bogus_kind.status_code, bogus_kind.json()["code"]) == (422, "invalid_request")
    not_a_form = await api.post("/v1/media", headers=token(tenant_id), content=b"raw bytes")
    assert (not_a_form.status_code, not_a_form.json()["code"]) == (400, "bad_form")
    no_file = await api.post(
        "/v1/media",
        headers=token(tenant_id),
        data={"caption": "x"},
        files={"other": ("a.jpg", b"x", "image/jpeg")},
    )
    assert (no_file.status_code, no_file.json()["code"]) == (400, "bad_form")
    empty = await api.post(
        "/v1/media", headers=token(tenant_id), files={"file": ("a.jpg", b"", "image/jpeg")}
    )
    assert (empty.status_code, empty.json()["code"]) == (400, "empty")


async def test_an_admin_has_a_failed_attachment_fetched_again(
    api: httpx.AsyncClient, app_pool: asyncpg.Pool, vault: Vault, make_tenant: MakeTenant
) -> None:
    tenant_id = await make_tenant()
    integration_id = await rows.integration(
        app_pool,
        vault,
        tenant_id,
        provider=Provider.META,
        base_url=None,
        credentials={"access_token": "tok", "phone_number_id": "pn"},
    )
    inbound = await rows.inbound_media(
        app_pool,
        tenant_id,
        integration_id,
        provider=Provider.META,
        message_type=MessageType.IMAGE,
        ref=MediaRef(provider_ref="media-1", mime="image/jpeg"),
    )
    url = f"/v1/media/{inbound.message_id}/refetch"
    admin = _admin(tenant_id)

    pending = await api.post(url, headers=admin)  # still pending: nothing to fetch again
    assert (pending.status_code, pending.json()["code"]) == (409, "media_pending")
    async with tenant_tx(app_pool, tenant_id) as conn:
        await conn.execute(
            "UPDATE messages SET media_state = 'failed', media_error = 'gone' WHERE id = $1",
            inbound.message_id,
        )
    assert (await api.post(url, headers=token(tenant_id))).status_code == 403  # agents may not
    assert (await api.post(f"/v1/media/{uuid4()}/refetch", headers=admin)).status_code == 404
    other = await make_tenant()
    foreign = _admin(other)
    assert (await api.post(url, headers=foreign)).status_code == 404  # not another tenant's

    answer = await api.post(url, headers=admin)
    assert answer.status_code == 202, answer.text
    assert answer.json() == {"message_id": str(inbound.message_id), "media_state": "pending"}
    row = await rows.message_row(app_pool, tenant_id, inbound.message_id)
    assert (row["media_state"], row["media_error"]) == ("pending", None)
    assert row["media_retry_at"] is not None  # due now: the worker's retrier takes it


def _admin(tenant_id: UUID) -> dict[str, str]:
    bearer = mint(AUTH, tenant_id=tenant_id, user_id="admin-1", role="admin")
    return {"Authorization": f"Bearer {bearer}"}
