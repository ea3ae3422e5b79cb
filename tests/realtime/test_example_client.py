"""The documented example client follows a conversation and stores its resume cursors."""

import asyncio
import contextlib
import importlib.util
import json
from pathlib import Path
from types import ModuleType

import asyncpg
import pytest

from bus.publisher import Publisher
from credentials import Vault
from tests.realtime.conftest import Gateway, token
from tests.realtime.world import inbound, make_world

EXAMPLE = Path(__file__).parents[2] / "services/realtime/examples/inbox_client.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("inbox_client", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_example_client_records_the_cursor_of_each_channel(
    gateway: Gateway,
    app_pool: asyncpg.Pool,
    vault: Vault,
    publisher: Publisher,
    make_tenant,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    client = _load()
    w = await make_world(app_pool, vault, await make_tenant())
    channel = f"conversation:{w.conversation_id}"
    follow = asyncio.create_task(
        client.follow(gateway.ws_url, token(w.tenant_id), ["inbox", channel])
    )
    state = tmp_path / "cursors.json"

    def stored() -> dict[str, int]:
        return json.loads(state.read_text()) if state.exists() else {}  # type: ignore[no-any-return]

    # It subscribes "from now on": produce until an event lands after its subscriptions.
    for _ in range(50):
        stamped = await inbound(app_pool, publisher, w, "hi", with_conversation=True)
        for _ in range(40):
            if stored().get("inbox") == stamped[1].cursor or follow.done():
                break
            await asyncio.sleep(0.05)
        if stored().get("inbox") == stamped[1].cursor:
            break
    follow.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await follow
    assert stored() == {"inbox": stamped[1].cursor, channel: stamped[1].cursor}
