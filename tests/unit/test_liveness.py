"""/healthz's judgement (telemetry.liveness): a loop that stopped, or stopped beating."""

import asyncio
import time

from telemetry import liveness


async def test_a_stopped_task_and_a_stalled_loop_are_named() -> None:
    task = asyncio.create_task(asyncio.sleep(0))
    liveness.watch("unit-stops", task)
    liveness.watch("unit-stalls", stall_s=10)
    try:
        now = time.monotonic()
        assert not [p for p in liveness.problems(now) if p.startswith("unit-")]
        await task
        assert [p for p in liveness.problems(now + 5) if p.startswith("unit-")] == [
            "unit-stops: stopped"
        ]
        stalled = [p for p in liveness.problems(now + 11) if p.startswith("unit-stalls")]
        assert stalled and "no progress" in stalled[0]
        liveness.beat("unit-stalls")
        assert not [p for p in liveness.problems() if p.startswith("unit-stalls")]
    finally:
        liveness.forget("unit-stops")
        liveness.forget("unit-stalls")
    assert not [p for p in liveness.problems() if p.startswith("unit-")]
