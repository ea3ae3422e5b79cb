"""What the simulator remembers: registered integrations, recorded requests, armed faults."""

import itertools
import time
from dataclasses import dataclass, field
from typing import Any

from contracts.common import Provider

ENDPOINTS = (
    "send",  # every send endpoint of the provider
    "mark_read",
    "media_info",  # Meta step 1 (GET /{media_id})
    "media",  # the media bytes (Meta step 2, Evolution getBase64, Z-API URL)
    "upload",
    "health",
)
# Faults that answer instead of the provider (nothing is accepted).
REFUSING_FAULTS = ("error_5xx", "rate_limit", "timeout", "slow", "window_closed", "expired_token")
# Faults of sends that are accepted (recorded, echoed, statuses played) and then answered
# badly: late (``delay_s``), a proxy's 502, a 2xx without the message id, or only after the
# echo (Meta: the first status webhook) has been posted and ``delay_s`` has passed.
ACCEPTING_FAULTS = ("late_answer", "accepted_502", "accepted_no_id", "echo_first")
FAULT_KINDS = REFUSING_FAULTS + ACCEPTING_FAULTS


@dataclass
class StatusPlan:
    """Status webhooks after each accepted send."""

    enabled: bool = True
    sequence: tuple[str, ...] = ("sent", "delivered", "read")
    out_of_order: bool = False
    duplicate: bool = False
    delay_s: float = 0.0


@dataclass
class Integration:
    provider: Provider
    account_id: str  # Meta phone_number_id, Evolution instance, Z-API instanceId
    webhook_url: str | None = None
    app_secret: str | None = None  # Meta
    webhook_secret: str | None = None  # Evolution / Z-API
    access_token: str | None = None  # Meta bearer / Evolution apikey / Z-API instance token
    client_token: str | None = None  # Z-API Client-Token
    statuses: StatusPlan = field(default_factory=StatusPlan)
    # Post the fromMe echo of every accepted send (Evolution / Z-API; accepting faults always do)
    echo: bool = False


@dataclass
class Fault:
    provider: Provider | None
    endpoint: str  # one of ENDPOINTS or "*"
    kind: str
    times: int | None = 1  # None: until cleared
    status: int = 503
    retry_after_s: float | None = 1.0
    delay_s: float = 5.0


@dataclass
class Recorded:
    seq: int
    at: float
    provider: Provider
    account_id: str
    endpoint: str
    action: str
    body: Any
    headers: dict[str, str]
    answered: int
    provider_message_id: str | None


class SimState:
    def __init__(self) -> None:
        self.integrations: dict[tuple[Provider, str], Integration] = {}
        self.requests: list[Recorded] = []
        self.faults: list[Fault] = []
        self.webhooks: list[dict[str, Any]] = []  # outcome of every webhook the driver posted
        self._seq = itertools.count(1)

    def reset(self) -> None:
        self.integrations.clear()
        self.requests.clear()
        self.faults.clear()
        self.webhooks.clear()

    def integration(self, provider: Provider, account_id: str) -> Integration | None:
        return self.integrations.get((provider, account_id))

    def take_fault(
        self, provider: Provider, endpoint: str, kinds: tuple[str, ...] = REFUSING_FAULTS
    ) -> Fault | None:
        """The next armed fault of ``kinds`` for this call, counted as used."""
        for fault in self.faults:
            if fault.provider not in (None, provider) or fault.endpoint not in ("*", endpoint):
                continue
            if fault.kind not in kinds:
                continue
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
            return fault
        return None

    def record(
        self,
        provider: Provider,
        account_id: str,
        endpoint: str,
        action: str,
        body: Any,
        headers: dict[str, str],
        answered: int,
        provider_message_id: str | None = None,
    ) -> None:
        safe = {
            k: v
            for k, v in headers.items()
            if k.lower() not in ("authorization", "apikey", "client-token")
        }
        self.requests.append(
            Recorded(
                next(self._seq),
                time.time(),
                provider,
                account_id,
                endpoint,
                action,
                body,
                safe,
                answered,
                provider_message_id,
            )
        )
