"""A send request meeting a claim younger than the outcome-unknown bound: another attempt's call
may be in flight (a redelivery after a rebalance or a crash, a copy the sweep republished), so
the request waits for that claim to resolve instead of declaring the outcome unknown.

The row is polled with backoff (``POLL_INITIAL_S`` doubling to ``POLL_MAX_S``) until the claim
resolves (sent or failed: done; released after a known failure: this request may send) or
ages past ``DISPATCHER_UNKNOWN_AFTER_S`` (outcome unknown). The wait is bounded: a claim that
keeps being renewed (a live attempt retrying) is left to that attempt after the bound, and
to the sweep should it die. It ends at once when the process stops (``Interrupted``).
"""

import time
from uuid import UUID

from db.tenant import tenant_tx
from dispatcher import store
from dispatcher.backoff import pause
from dispatcher.decide import Decision, decide, state_of
from dispatcher.deps import Deps

POLL_INITIAL_S = 0.2
POLL_MAX_S = 5.0


async def await_claim(deps: Deps, tenant_id: UUID, message_id: UUID) -> Decision:
    """The decision once the standing claim resolved or aged past the bound; ``IN_FLIGHT``
    when it was still held by a live attempt after waiting the whole bound."""
    started = time.monotonic()
    delay = POLL_INITIAL_S
    while True:
        async with tenant_tx(deps.pool, tenant_id) as conn:
            row = await store.claim_state(conn, message_id=message_id)
        state = state_of(row)
        decision = decide(state, unknown_after_s=deps.unknown_after_s)
        waited = time.monotonic() - started
        if decision is not Decision.IN_FLIGHT or waited >= deps.unknown_after_s:
            return decision
        assert state is not None and state.claim_age_s is not None
        # Wake no later than the moment this claim crosses the bound.
        until_unknown = max(deps.unknown_after_s - state.claim_age_s, 0.0) + 0.05
        await pause(deps.stop, min(delay, until_unknown))
        delay = min(delay * 2, POLL_MAX_S)
