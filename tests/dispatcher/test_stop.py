"""SIGTERM while `omni run dispatcher` waits (a long Retry-After, a long backoff, its number's
pace): the process ends within its grace period, the message waited on is left queued with no
claim standing (no call was in flight), and its record, left uncommitted, is sent exactly once
by the next process."""

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any
from uuid import uuid4

import asyncpg
import pytest

from contracts import Provider
from contracts.outbound import OutboundText
from simulator.server import free_port
from tests.conftest import egress_allow
from tests.dispatcher.conftest import Sim, Wired, publish, queue, wait_until
from tests.dispatcher.outbound import message_row

# Well inside the deployment's terminationGracePeriodSeconds (60, deploy/k8s/base).
GRACE_S = 20.0
LONG_S = 60.0


def _start(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "omnicli", "run", "dispatcher"],
        env={**env, "OPS_PORT": str(free_port())},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.mark.timeout(240)
@pytest.mark.parametrize("wait", ["retry_after", "backoff", "pace"])
async def test_sigterm_during_a_long_wait_ends_the_process_and_leaves_no_claim(
    wait: str,
    wire: Callable[..., Any],
    sim: Sim,
    app_pool: asyncpg.Pool,
    stack_env: dict[str, str],
    deps: Any,
) -> None:
    # "pace": one send every 10 s, so the second message waits for its slot.
    w: Wired = await wire(Provider.ZAPI, rate_limit_per_s=0.1 if wait == "pace" else None)
    first = await queue(app_pool, w, OutboundText(body=f"{wait} first"))
    waiting = (
        await queue(app_pool, w, OutboundText(body=f"{wait} waits")) if wait == "pace" else first
    )
    env = {
        **stack_env,
        "DISPATCHER_GROUP_ID": f"dispatcher-stop-{uuid4().hex[:8]}",
        "DISPATCHER_SWEEP_INTERVAL_S": "3600",
        "DISPATCHER_MAX_RETRY_AFTER_S": str(LONG_S),
        "DISPATCHER_RETRY_INITIAL_S": str(LONG_S),
        "DISPATCHER_RETRY_MAX_S": str(LONG_S),
        "LOG_LEVEL": "WARNING",
        "PROVIDER_EGRESS_ALLOW": egress_allow(sim.base_url),
    }
    if wait == "retry_after":
        await sim.control.fault(
            "rate_limit", provider=Provider.ZAPI, endpoint="send", retry_after_s=LONG_S
        )
    elif wait == "backoff":
        await sim.control.fault("error_5xx", provider=Provider.ZAPI, endpoint="send")
    process = _start(env)
    try:
        await publish(deps.publisher, [first, waiting] if wait == "pace" else [first])

        async def answered() -> bool:
            return len(await sim.control.sends(account_id=w.account)) == 1

        # The first call was answered (429, 503, or sent): the process now sits in its wait.
        await wait_until(answered, timeout_s=90)
        signalled = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(process.wait, GRACE_S) == 0
        assert time.monotonic() - signalled < GRACE_S
        row = await message_row(app_pool, w.tenant_id, waiting.message_id)
        assert (row["status"], row["send_started_at"]) == ("queued", None)

        # The next process gets the record again and sends it, once.
        await sim.control.clear_faults()
        process = _start(env)

        async def sent() -> bool:
            row = await message_row(app_pool, w.tenant_id, waiting.message_id)
            return bool(row["status"] == "sent")

        await wait_until(sent, timeout_s=90)
        process.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(process.wait, GRACE_S) == 0
    finally:
        await sim.control.clear_faults()
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
    accepted = [c for c in await sim.control.sends(account_id=w.account) if c["answered"] == 200]
    assert sorted(c["body"]["message"] for c in accepted) == sorted(
        {f"{wait} first", f"{wait} waits"} if wait == "pace" else {f"{wait} first"}
    )
