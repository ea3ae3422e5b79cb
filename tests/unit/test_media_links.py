"""The dispatcher's presigned links for outbound media force a safe type and an attachment
disposition, whatever the object was stored with (real S3 server, real HTTP fetch)."""

from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import httpx
import pytest
from aiobotocore.session import get_session

from config.shared import S3Settings
from dispatcher.media import MediaLinks, link_type


@pytest.fixture
async def s3(s3_settings: S3Settings) -> AsyncIterator[Any]:
    async with get_session().create_client(
        "s3",
        endpoint_url=s3_settings.endpoint,
        region_name=s3_settings.region,
        aws_access_key_id=s3_settings.access_key.get_secret_value(),
        aws_secret_access_key=s3_settings.secret_key.get_secret_value(),
    ) as client:
        yield client


@pytest.mark.parametrize(
    ("claimed", "forced"),
    [
        ("image/jpeg", "image/jpeg"),
        ("Application/PDF; charset=binary", "application/pdf"),
        ("text/html", "application/octet-stream"),
        ("image/svg+xml", "application/octet-stream"),
        (None, "application/octet-stream"),
    ],
)
def test_link_type_keeps_sendable_types_only(claimed: str | None, forced: str) -> None:
    assert link_type(claimed) == forced


async def test_a_link_serves_an_uploaded_page_as_an_opaque_attachment(
    s3: Any, s3_settings: S3Settings
) -> None:
    key = f"{uuid4()}/outbound/{uuid4()}"
    page = b"<html><script>alert(1)</script></html>"
    await s3.put_object(Bucket=s3_settings.bucket, Key=key, Body=page, ContentType="text/html")
    links = MediaLinks(s3, bucket=s3_settings.bucket, ttl_s=60)
    async with httpx.AsyncClient(timeout=10) as http:
        html = await http.get((await links.source(key, "text/html")).link)
        pdf = await http.get((await links.source(key, "application/pdf")).link)
    assert html.status_code == 200 and html.content == page
    assert html.headers["content-type"] == "application/octet-stream"
    assert html.headers["content-disposition"] == "attachment"
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"] == "attachment"
