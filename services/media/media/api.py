"""media-api: authorised downloads and uploads for outbound messages. Routes only; the work is
in ``transfer``, ``storage`` and ``persist``.

- ``GET /v1/media/{message_id}``: 307 to a presigned URL of a few minutes, with the sniffed
  type and a safe disposition. This URL is the stable one; the presigned one is disposable.
- ``POST /v1/media[?media_type=image|video|audio|voice|document|sticker]``: a multipart form
  with a ``file`` part, streamed to storage under WhatsApp's limits for its kind (sniffed
  type; the kind is inferred from it when not given); answers with the media reference a send
  request carries (``OutboundMedia``: media_key, mime, filename, media_type).
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import RedirectResponse
from pydantic import BaseModel
from starlette.types import Scope

from auth.tokens import Verifier
from config.shared import AuthSettings, DatabaseSettings, S3Settings
from db.pool import create_pool
from db.tenant import tenant_tx
from media import metrics, persist, problems, retries
from media.deps import Member, Res, Resources
from media.errors import MediaRefused, TooLarge, TypeNotAllowed
from media.filenames import content_disposition, sanitize, served_type
from media.form import FormError, file_part
from media.keys import belongs_to
from media.limits import LARGEST, MediaKind, check_outbound_type, max_bytes, outbound_kind_for
from media.settings import MediaSettings
from media.storage import open_store
from media.transfer import store_stream
from telemetry.bodycap import BodyCap
from telemetry.ops import ops_app

router = APIRouter(prefix="/v1/media", tags=["media"])

FORM_OVERHEAD = 64 * 1024  # boundaries and part headers around the file


class MediaReference(BaseModel):
    media_key: str
    mime: str
    size: int
    sha256: str
    media_type: MediaKind
    filename: str | None


@router.get("/{message_id}", status_code=307, responses=problems.documented(401, 403, 404, 409))
async def download(message_id: str, caller: Member, res: Res) -> RedirectResponse:
    try:
        wanted = UUID(message_id)
    except ValueError:
        raise problems.not_found() from None
    async with tenant_tx(res.pool, caller.tenant_id) as conn:
        row = await persist.media_of_message(conn, message_id=wanted)
    if row is None or row["media_state"] is None:
        metrics.DOWNLOADS.labels("not_found").inc()
        raise problems.not_found()
    if row["media_state"] != "stored":
        metrics.DOWNLOADS.labels(row["media_state"]).inc()
        detail = row["media_error"] or "the attachment is still being fetched"
        raise problems.ApiError(409, f"media_{row['media_state']}", detail)
    if not row["media_key"] or not belongs_to(caller.tenant_id, row["media_key"]):
        raise problems.not_found()  # defence in depth: never sign another tenant's key
    mime = served_type(row["media_mime"])
    url = await res.store.presigned_get(
        row["media_key"],
        ttl_s=res.settings.presign_ttl_s,
        content_type=mime,
        content_disposition=content_disposition(row["media_filename"], mime),
    )
    metrics.DOWNLOADS.labels("redirected").inc()
    return RedirectResponse(
        url,
        status_code=307,
        headers={"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer"},
    )


class Refetch(BaseModel):
    message_id: UUID
    media_state: str


@router.post(
    "/{message_id}/refetch", status_code=202, responses=problems.documented(401, 403, 404, 409)
)
async def refetch(message_id: str, caller: Member, res: Res) -> Refetch:
    """Admins: fetch a failed attachment again (the provider may have it back, or the failure
    was an outage that outlasted the retries). media-worker takes it within
    ``MEDIA_RETRY_SCAN_S``; the message shows the outcome live."""
    if caller.role != "admin":
        raise problems.ApiError(403, "admin_only", "only an admin can have media fetched again")
    try:
        wanted = UUID(message_id)
    except ValueError:
        raise problems.not_found() from None
    async with tenant_tx(res.pool, caller.tenant_id) as conn:
        row = await persist.media_of_message(conn, message_id=wanted)
        if row is None or row["media_state"] is None:
            raise problems.not_found()
        if row["media_state"] != "failed" or not await retries.refetch(conn, message_id=wanted):
            raise problems.ApiError(
                409, f"media_{row['media_state']}", "only a failed attachment is fetched again"
            )
    return Refetch(message_id=wanted, media_state="pending")


@router.post("", status_code=201, responses=problems.documented(400, 401, 403, 413, 415))
async def upload(
    request: Request,
    caller: Member,
    res: Res,
    media_type: Annotated[MediaKind | None, Query()] = None,
) -> MediaReference:
    length = request.headers.get("content-length")
    ceiling = (max_bytes(media_type) if media_type else LARGEST) + FORM_OVERHEAD
    if length is not None and length.isdigit() and int(length) > ceiling:
        metrics.UPLOADS.labels("too_large").inc()
        raise problems.ApiError(413, TooLarge.code, "the file is larger than its kind allows")
    chosen: list[MediaKind] = []

    def admit(mime: str) -> int:
        kind = media_type or outbound_kind_for(mime)
        check_outbound_type(kind, mime)
        chosen.append(kind)
        return max_bytes(kind)

    try:
        part = await file_part(request.stream(), request.headers.get("content-type", ""))
        stored = await store_stream(
            res.store,
            caller.tenant_id,
            part.chunks,
            claimed_mime=part.content_type,
            admit=admit,
        )
    except FormError as exc:
        metrics.UPLOADS.labels("bad_form").inc()
        raise problems.ApiError(400, "bad_form", str(exc)) from None
    except MediaRefused as exc:
        metrics.UPLOADS.labels(exc.code).inc()
        status = {TooLarge.code: 413, TypeNotAllowed.code: 415}.get(exc.code, 400)
        raise problems.ApiError(status, exc.code, exc.reason) from None
    metrics.UPLOADS.labels("stored").inc()
    return MediaReference(
        media_key=stored.key,
        mime=stored.mime,
        size=stored.size,
        sha256=stored.sha256,
        media_type=chosen[0],
        filename=sanitize(part.filename, stored.mime) if part.filename else None,
    )


def create_app(
    settings: MediaSettings,
    auth: AuthSettings,
    database: DatabaseSettings,
    s3: S3Settings,
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        verifier = Verifier(auth)
        pool = await create_pool(database)
        try:
            async with open_store(
                s3, part_size=settings.part_size, presign_endpoint=settings.presign_endpoint
            ) as store:
                app.state.resources = Resources(settings, pool, store, verifier)
                yield
        finally:
            await pool.close()

    app = FastAPI(title="media-api", lifespan=lifespan, docs_url=None, redoc_url=None)
    problems.install(app)
    app.include_router(router)
    if settings.origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
        )
    # Every body but an upload's (streamed under its own, larger limits) is capped while read.
    app.add_middleware(BodyCap, max_bytes=settings.max_json_body_bytes, streams=_is_upload)

    async def ready() -> dict[str, bool]:
        res: Resources | None = getattr(app.state, "resources", None)
        if res is None:
            return {"started": False}
        db_ok: Any = await res.pool.fetchval("SELECT 1")
        return {"database": db_ok == 1, "store": await res.store.ready()}

    app.state.ops = ops_app(ready)  # served on OPS_PORT only
    return app


def _is_upload(scope: Scope) -> bool:
    return bool(scope["method"] == "POST" and scope["path"] == router.prefix)
