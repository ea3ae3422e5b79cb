"""The provider interface: what ingest, dispatcher and media need from Meta, Evolution, Z-API.

Pure parts (verification, parsing) are plain functions of bytes and settings, collected per
provider in a ``WebhookCodec``; I/O parts (send, mark read, media, health) are methods of a
``ProviderClient`` built over the process's shared ``httpx.AsyncClient``.
"""

from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from contracts.common import Provider
from contracts.inbound import InboundMessage, MediaRef, ProviderError
from contracts.outbound import OutboundContent
from contracts.status import MessageStatus

# ---------------------------------------------------------------------------------------------
# Inbound: verification and parsing (pure)


@dataclass(frozen=True)
class WebhookSecrets:
    """What an integration knows to authenticate its webhooks (decrypted credentials)."""

    app_secret: str | None = None  # Meta: HMAC-SHA256 key of X-Hub-Signature-256
    verify_token: str | None = None  # Meta: GET hub.verify_token handshake
    webhook_secret: str | None = None  # Evolution / Z-API: per-integration shared secret


@dataclass(frozen=True)
class Rejection:
    """Why a webhook was refused. ``status`` is the HTTP status ingest-api answers with."""

    reason: str
    status: int = 400


@dataclass(frozen=True)
class ParsedMessage:
    account_ref: str  # the receiving account as the provider names it (phone_number_id, ...)
    message: InboundMessage


@dataclass(frozen=True)
class ParsedStatus:
    account_ref: str
    provider_message_ids: tuple[str, ...]
    status: MessageStatus
    reported_at: datetime
    recipient: str | None = None
    error: ProviderError | None = None
    provider_status_raw: str | None = None
    client_message_id: str | None = None  # ours, echoed back (Meta biz_opaque_callback_data)


@dataclass(frozen=True)
class ParsedContact:
    """A contact the business's own phone saved, renamed or deleted (Meta coexistence)."""

    account_ref: str
    phone: str
    name: str | None
    action: Literal["add", "remove"]
    synced_at: datetime


@dataclass(frozen=True)
class ParsedWebhook:
    messages: tuple[ParsedMessage, ...] = ()
    statuses: tuple[ParsedStatus, ...] = ()
    # Events deliberately not turned into messages (e.g. group chats, READ_BY_ME), with why.
    ignored: tuple[str, ...] = ()
    # Accounts named by parts of the body that made no event (a Meta change of a field not
    # handled, like ``smb_message_echoes``): the body is still theirs, so it is recorded and
    # answered 200 rather than refused, which Meta would retry for days.
    quiet_accounts: frozenset[str] = frozenset()
    contacts: tuple[ParsedContact, ...] = ()

    @property
    def account_refs(self) -> frozenset[str]:
        """Accounts of the messages, statuses and contacts (those that made events)."""
        return frozenset(
            [m.account_ref for m in self.messages]
            + [s.account_ref for s in self.statuses]
            + [c.account_ref for c in self.contacts]
        )

    @property
    def named_accounts(self) -> frozenset[str]:
        """Every account the body names, with or without events."""
        return self.account_refs | self.quiet_accounts


class WebhookCodec(Protocol):
    provider: Provider

    def verify(
        self, headers: Mapping[str, str], body: bytes, secrets: WebhookSecrets
    ) -> Rejection | None:
        """None when the webhook is authentic; headers are matched case-insensitively."""
        ...

    def parse(self, body: bytes) -> ParsedWebhook | Rejection:
        """Never raises, whatever the bytes."""
        ...


# ---------------------------------------------------------------------------------------------
# Outbound and media: the client (I/O)


@dataclass(frozen=True)
class OutboundMediaSource:
    """How the provider gets an outbound attachment: a short-lived link to our bucket, or the
    provider's own media id after an upload (Meta)."""

    link: str | None = None
    provider_media_id: str | None = None


@dataclass(frozen=True)
class SendRequest:
    to: str
    content: OutboundContent
    reply_to_provider_message_id: str | None = None
    media: OutboundMediaSource | None = None
    client_message_id: str | None = None  # sent where the provider echoes it back


@dataclass(frozen=True)
class SendResult:
    provider_message_id: str
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MediaDownload:
    mime: str | None
    size: int | None
    filename: str | None
    chunks: AsyncIterator[bytes]


@dataclass(frozen=True)
class Health:
    ok: bool
    detail: str
    account: Mapping[str, Any] = field(default_factory=dict)


class ProviderClient(Protocol):
    provider: Provider

    async def send(self, request: SendRequest) -> SendResult:
        """Raises ``providers.errors.ProviderFailure`` subclasses."""
        ...

    async def mark_read(self, chat_id: str, provider_message_id: str) -> None: ...

    def fetch_media(self, ref: MediaRef) -> AbstractAsyncContextManager[MediaDownload]:
        """Stream an attachment; never loads the whole file in memory."""
        ...

    async def upload_media(
        self, data: AsyncIterator[bytes], mime: str, filename: str | None
    ) -> str | None:
        """Upload for an outbound message; the provider's media id, or None when the provider
        takes links instead."""
        ...

    async def health(self) -> Health: ...

    def media_hosts(self) -> frozenset[str]:
        """Hosts media may be fetched from (SSRF guard)."""
        ...
