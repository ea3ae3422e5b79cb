"""An agent's side of the system, as a frontend would be: a websocket to the gateway and REST."""

import asyncio
import json
from collections.abc import Callable
from types import TracebackType
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

Frame = dict[str, Any]


class AgentSocket:
    def __init__(self, gateway_url: str, token: str) -> None:
        self.url = gateway_url.replace("http", "ws", 1) + "/v1/ws"
        self.token = token
        self.ws: ClientConnection | None = None
        self.ready: Frame = {}
        self.seen: list[Frame] = []  # every event frame, in arrival order

    async def __aenter__(self) -> "AgentSocket":
        self.ws = await connect(self.url, open_timeout=10)
        await self.ws.send(json.dumps({"type": "auth", "token": self.token}))
        self.ready = json.loads(await asyncio.wait_for(self.ws.recv(), 10))
        assert self.ready["type"] == "ready", self.ready
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.ws is not None:
            await self.ws.close()

    async def subscribe(self, channel: str, after: int | None) -> None:
        assert self.ws is not None
        await self.ws.send(json.dumps({"type": "subscribe", "channel": channel, "after": after}))

    async def wait_for(self, done: Callable[[list[Frame]], bool], timeout_s: float = 60) -> None:
        """Read frames until ``done(events seen so far)`` holds."""
        assert self.ws is not None
        async with asyncio.timeout(timeout_s):
            while not done(self.seen):
                frame = json.loads(await self.ws.recv())
                if frame["type"] == "event":
                    self.seen.append(frame["event"])
                elif frame["type"] in ("error", "reset"):
                    raise AssertionError(f"gateway said {frame}")

    def messages(self, conversation_id: str | None = None) -> list[Frame]:
        return [
            e["message"]
            for e in self.seen
            if e["type"] in ("message.created", "message.updated")
            and (conversation_id is None or e["message"]["conversation_id"] == conversation_id)
        ]

    def conversations(self) -> list[Frame]:
        return [e["conversation"] for e in self.seen if e["type"] == "conversation.updated"]


def rest(base_url: str, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=20
    )
