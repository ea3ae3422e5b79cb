"""The webhook pipeline behind ingest-api's routes, in the order the issue fixes:
route → verify on the raw bytes → integration enabled → parse (pure) → account check →
publish and wait for the broker's ack. Raises ``ingest.errors`` types; the routes translate.
"""

from collections.abc import Mapping
from datetime import UTC, datetime
from uuid import uuid4

import orjson
import structlog

from bus.publisher import Outgoing, PublisherBase
from contracts import Provider
from ingest import normalize
from ingest.errors import (
    BrokerUnavailable,
    ForeignAccount,
    IntegrationDisabled,
    NotAuthentic,
    NotJson,
    Refused,
    UnknownIntegration,
)
from ingest.metrics import META_ENTRIES_SKIPPED, WEBHOOKS
from ingest.routing import Route, RouteCache
from providers.base import ParsedWebhook, Rejection, WebhookSecrets
from providers.meta.parse import split_by_account
from providers.meta.verify import handshake
from providers.registry import codec
from providers.secret import TOKEN_HEADER, ZAPI_QUERY_PARAM

log = structlog.get_logger(__name__)


class Receiver:
    def __init__(
        self,
        routes: RouteCache,
        publisher: PublisherBase,
        *,
        meta_app_secret: str | None,
        meta_verify_token: str | None,
    ) -> None:
        self._routes = routes
        self._publisher = publisher  # it bounds the wait for the broker's ack
        self._meta_app = WebhookSecrets(app_secret=meta_app_secret, verify_token=meta_verify_token)

    async def integration_webhook(
        self,
        provider_name: str,
        webhook_key: str,
        headers: Mapping[str, str],
        query: Mapping[str, str],
        body: bytes,
        traceparent: str,
    ) -> int:
        """Accept a webhook posted to one integration's URL; the number of events published."""
        route = await self._route(provider_name, webhook_key)
        headers = _with_query_token(route.provider, headers, query)
        _authentic(route.provider, headers, body, route.secrets)
        if not route.active:
            raise IntegrationDisabled("the integration is disabled")
        origin = _origin(route, traceparent)
        parsed = codec(route.provider).parse(body)
        if isinstance(parsed, Rejection):
            _json(body)
            # Authentic but not understood: recorded raw (replayable) and answered 200, so
            # the provider does not retry something that will never parse.
            await self._publish([normalize.record(origin, body, error=parsed.reason)])
            WEBHOOKS.labels(route.provider.value, "failed").inc()
            return 0
        foreign = parsed.named_accounts - {route.account}
        if not foreign:
            items = normalize.events(origin, normalize.kept(parsed, route.group_messages), body)
        elif route.provider is Provider.META:
            # A Meta app posts every number's entries to the one callback URL it has.
            items = await self._by_entry(headers, body, parsed, traceparent, home=route)
            if not items:
                raise ForeignAccount("the body names no account of this integration")
        else:
            raise ForeignAccount(
                f"the body names {len(foreign)} account(s) not of this integration"
            )
        await self._publish(items)
        WEBHOOKS.labels(route.provider.value, "accepted").inc()
        return normalize.published(items)

    async def meta_app_webhook(
        self, headers: Mapping[str, str], body: bytes, traceparent: str
    ) -> int:
        """Meta's app-level endpoint: one app for many numbers, each entry routed by its
        ``phone_number_id``. Entries of numbers we do not know (or disabled) are left out,
        logged and counted; the others are accepted, even when nothing in them is handled
        (``smb_message_echoes``, unknown fields): recorded raw under their integration and
        answered 200, since Meta retries any other answer for days. None known at all: 404."""
        _authentic(Provider.META, headers, body, self._meta_app)
        parsed = codec(Provider.META).parse(body)
        if isinstance(parsed, Rejection):
            _json(body)
            # No integration (so no tenant) to record it under: refuse.
            raise Refused(f"unusable Meta payload: {parsed.reason}")
        items = await self._by_entry(headers, body, parsed, traceparent, home=None)
        if not items:
            raise UnknownIntegration("no known, enabled integration for this webhook")
        await self._publish(items)
        WEBHOOKS.labels(Provider.META.value, "accepted").inc()
        return normalize.published(items)

    async def _by_entry(
        self,
        headers: Mapping[str, str],
        body: bytes,
        parsed: ParsedWebhook,
        traceparent: str,
        *,
        home: Route | None,
    ) -> list[Outgoing]:
        """A Meta body routed entry by entry (by ``phone_number_id``): each number's part goes
        to its own integration, with the body cut down to it as its raw webhook. Numbers that
        are unknown, disabled, or (on an integration's URL, ``home``) of an integration whose
        app secret does not verify this body are left out, logged and counted."""
        items: list[Outgoing] = []
        # Cut per number only when it names several (else the body is that number's already).
        accounts = parsed.named_accounts
        parts = split_by_account(body) if len(accounts) > 1 else {}
        for account in sorted(accounts):
            route = home
            if route is None or account != route.account:
                route = await self._routes.by_account(Provider.META, account)
            reason = _left_out(route, home, headers, body)
            if reason is not None:
                META_ENTRIES_SKIPPED.labels(reason).inc()
                log.warning("meta webhook entry left out", account=account, reason=reason)
                continue
            assert route is not None
            items += normalize.events(
                _origin(route, traceparent),
                normalize.kept(normalize.for_account(parsed, account), route.group_messages),
                parts.get(account, body),
            )
        return items

    async def handshake(
        self, provider_name: str, webhook_key: str | None, params: Mapping[str, str]
    ) -> str:
        """Meta's GET verification: the challenge to echo back."""
        if webhook_key is None:
            secrets = self._meta_app
        else:
            route = await self._route(provider_name, webhook_key)
            if route.provider is not Provider.META:
                raise UnknownIntegration("only Meta integrations have a GET handshake")
            secrets = route.secrets
        answer = handshake(params, secrets.verify_token)
        if isinstance(answer, Rejection):
            raise Refused(answer.reason, status=answer.status)
        return answer

    async def _route(self, provider_name: str, webhook_key: str) -> Route:
        route = await self._routes.by_key(webhook_key)
        if route is None or route.provider.value != provider_name:
            raise UnknownIntegration("no integration has this webhook address")
        return route

    async def _publish(self, items: list[Outgoing]) -> None:
        try:
            await self._publisher.publish_many(items)
        except Exception as exc:
            log.error("broker did not acknowledge the webhook's events", error=repr(exc))
            raise BrokerUnavailable("the broker did not acknowledge; retry later") from exc


def _origin(route: Route, traceparent: str) -> normalize.Origin:
    return normalize.Origin(
        tenant_id=route.tenant_id,
        integration_id=route.integration_id,
        provider=route.provider,
        account=route.account,
        webhook_id=uuid4(),
        received_at=datetime.now(UTC),
        traceparent=traceparent,
        stream=route.stream,
    )


def _left_out(
    route: Route | None, home: Route | None, headers: Mapping[str, str], body: bytes
) -> str | None:
    """Why one number's entries of a Meta body are not accepted, or None."""
    if route is None:
        return "unknown_number"
    if not route.active:
        return "integration_disabled"
    # Posted to another integration's URL, checked with its app secret: this number's
    # integration must have the same app (secret), or anyone with one app's secret could write
    # into every tenant.
    other = home is not None and route is not home
    if other and codec(Provider.META).verify(headers, body, route.secrets) is not None:
        return "other_app"
    return None


def _authentic(
    provider: Provider, headers: Mapping[str, str], body: bytes, secrets: WebhookSecrets
) -> None:
    rejection = codec(provider).verify(headers, body, secrets)
    if rejection is not None:
        raise NotAuthentic(rejection.reason, status=rejection.status)


def _json(body: bytes) -> None:
    """Refuse a body that is not JSON at all. Asked only once the parser has rejected the body
    (parsing it twice costs every good webhook)."""
    try:
        orjson.loads(body)
    except orjson.JSONDecodeError:
        raise NotJson("the body is not JSON") from None


def _with_query_token(
    provider: Provider, headers: Mapping[str, str], query: Mapping[str, str]
) -> Mapping[str, str]:
    """Z-API cannot send headers: its callback URL carries the secret as ``?token=``, which
    the shared-secret check reads from ``X-Webhook-Token`` (see ``providers.secret``)."""
    token = query.get(ZAPI_QUERY_PARAM)
    if provider is not Provider.ZAPI or token is None:
        return headers
    return {**headers, TOKEN_HEADER: token}
