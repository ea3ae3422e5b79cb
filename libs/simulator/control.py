"""``SimControl``: the async Python client of the simulator's ``/_sim/`` control API, for tests,
benchmarks and ``make dev``."""

from collections.abc import Sequence
from types import TracebackType
from typing import Any, Self

import httpx

from contracts.common import Provider
from simulator import media


class SimControl:
    def __init__(self, base_url: str, *, timeout_s: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.AsyncClient(base_url=self.base_url, timeout=timeout_s)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self._http.request(method, path, **kwargs)
        response.raise_for_status()
        return response.json()

    async def register(
        self,
        provider: Provider | str,
        account_id: str,
        *,
        webhook_url: str | None = None,
        app_secret: str | None = None,
        webhook_secret: str | None = None,
        access_token: str | None = None,
        client_token: str | None = None,
        statuses: bool = True,
        status_sequence: Sequence[str] = ("sent", "delivered", "read"),
        out_of_order: bool = False,
        duplicate: bool = False,
        status_delay_s: float = 0.0,
        echo: bool = False,
    ) -> None:
        """Register (or replace) an integration. ``access_token`` is what the adapter must present
        (Meta bearer, Evolution apikey, Z-API instance token); None accepts any. ``echo``: post
        the ``fromMe`` echo of every accepted send (Evolution, Z-API)."""
        await self._call(
            "POST",
            "/_sim/integrations",
            json={
                "provider": str(provider),
                "account_id": account_id,
                "webhook_url": webhook_url,
                "app_secret": app_secret,
                "webhook_secret": webhook_secret,
                "access_token": access_token,
                "client_token": client_token,
                "statuses": {
                    "enabled": statuses,
                    "sequence": list(status_sequence),
                    "out_of_order": out_of_order,
                    "duplicate": duplicate,
                    "delay_s": status_delay_s,
                },
                "echo": echo,
            },
        )

    async def requests(
        self,
        *,
        provider: Provider | str | None = None,
        account_id: str | None = None,
        endpoint: str | None = None,
        since: int = 0,
    ) -> list[dict[str, Any]]:
        """Recorded provider API calls: ``{seq, at, provider, account_id, endpoint, action, body,
        headers, answered, provider_message_id}``; endpoint is send, mark_read, media_info,
        media, upload or health."""
        params = {
            k: str(v)
            for k, v in (("provider", provider), ("account_id", account_id), ("endpoint", endpoint))
            if v
        }
        params["since"] = str(since)
        result: list[dict[str, Any]] = await self._call("GET", "/_sim/requests", params=params)
        return result

    async def sends(
        self, *, provider: Provider | str | None = None, account_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Accepted and refused send calls."""
        return await self.requests(provider=provider, account_id=account_id, endpoint="send")

    async def webhooks(self) -> list[dict[str, Any]]:
        """Every webhook the driver posted: ``{account_id, what, status}``."""
        result: list[dict[str, Any]] = await self._call("GET", "/_sim/webhooks")
        return result

    async def fault(
        self,
        kind: str,
        *,
        provider: Provider | str | None = None,
        endpoint: str = "*",
        times: int | None = 1,
        status: int = 503,
        retry_after_s: float | None = 1.0,
        delay_s: float = 5.0,
    ) -> None:
        """Arm a fault: kind error_5xx | rate_limit | timeout | slow | window_closed |
        expired_token (answered instead of the provider), or, for sends, late_answer |
        accepted_502 | accepted_no_id | echo_first (the send is accepted, echoed and its
        statuses played, then answered so: see ``simulator.accepting``); on endpoint send |
        mark_read | media_info | media | upload | health | *, for ``times`` calls (None: until
        cleared)."""
        await self._call(
            "POST",
            "/_sim/faults",
            json={
                "kind": kind,
                "provider": str(provider) if provider else None,
                "endpoint": endpoint,
                "times": times,
                "status": status,
                "retry_after_s": retry_after_s,
                "delay_s": delay_s,
            },
        )

    async def clear_faults(self) -> None:
        await self._call("DELETE", "/_sim/faults")

    async def reset(self) -> None:
        await self._call("POST", "/_sim/reset")

    async def inbound(
        self,
        provider: Provider | str,
        account_id: str,
        kind: str = "text",
        *,
        phone: str = "5511987654321",
        name: str = "Sim Customer",
        text: str = "hello from the simulator",
        reply_to: str | None = None,
        media_size: int = 2048,
        message_id: str | None = None,
    ) -> dict[str, Any]:
        """Post one correctly authenticated customer message to the integration's webhook URL.
        Returns ``{provider_message_id, status}`` (status = HTTP answer of the webhook URL)."""
        result: dict[str, Any] = await self._call(
            "POST",
            f"/_sim/integrations/{provider}/{account_id}/inbound",
            json={
                "kind": kind,
                "phone": phone,
                "name": name,
                "text": text,
                "reply_to": reply_to,
                "media_size": media_size,
                "message_id": message_id,
            },
        )
        return result

    async def drive(
        self,
        *,
        count: int,
        rate_per_s: float,
        provider: Provider | str | None = None,
        account_id: str | None = None,
        kinds: Sequence[str] = ("text",),
        customers: int = 10,
    ) -> dict[str, int]:
        """Post ``count`` customer messages at ``rate_per_s``.

        Returns ``{posted, accepted, refused}``."""
        result: dict[str, int] = await self._call(
            "POST",
            "/_sim/drive",
            json={
                "count": count,
                "rate_per_s": rate_per_s,
                "provider": str(provider) if provider else None,
                "account_id": account_id,
                "kinds": list(kinds),
                "customers": customers,
            },
            timeout=None,
        )
        return result

    @staticmethod
    def media_id(mime: str = "image/jpeg", size: int = 2048, seed: str = "0") -> str:
        """A media id the simulator serves (Meta media id, Evolution message key id)."""
        return media.media_id(mime, size, seed)

    @staticmethod
    def expected_sha256(media_id: str) -> str:
        return media.expected_sha256(media_id)

    def media_url(self, media_id: str) -> str:
        """A Z-API-style plain media URL on the simulator."""
        return f"{self.base_url}/_sim/media/{media_id}"
