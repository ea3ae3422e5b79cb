"""Example websocket client: follow a tenant's inbox (and some conversations) live, and resume
after any disconnect without missing or repeating an event.

Usage: python inbox_client.py ws://127.0.0.1:8080/v1/ws <JWT> [conversation-id ...]

It keeps the last cursor of every channel in ``cursors.json`` and subscribes with it after a
reconnect (see docs/websocket-protocol.md).
"""

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import websockets

STATE = Path("cursors.json")
RESUMABLE = {1001, 1006, 1011, 1012, 4008}  # close codes after which reconnecting helps


def show(*parts: object) -> None:
    sys.stdout.write(" ".join(str(p) for p in parts) + "\n")


def load_cursors() -> dict[str, int | None]:
    cursors: dict[str, int | None] = json.loads(STATE.read_text()) if STATE.exists() else {}
    return cursors


def save_cursors(cursors: dict[str, int | None]) -> None:
    STATE.write_text(json.dumps(cursors))


def channels_of(event: dict[str, Any]) -> list[str]:
    """The same routing the gateway applies: inbox for conversation changes, and the channel
    of the conversation the event is about."""
    if event["type"] == "conversation.updated":
        return ["inbox", f"conversation:{event['conversation']['id']}"]
    return [f"conversation:{event['message']['conversation_id']}"]


async def follow(url: str, token: str, channels: list[str]) -> None:
    cursors = load_cursors()
    async with websockets.connect(url) as ws:
        await ws.send(json.dumps({"type": "auth", "token": token}))
        show("ready", json.loads(await ws.recv()))
        for channel in channels:
            after = cursors.get(channel)
            await ws.send(json.dumps({"type": "subscribe", "channel": channel, "after": after}))
        async for raw in ws:
            frame = json.loads(raw)
            if frame["type"] == "event":
                event = frame["event"]
                show(frame["cursor"], event["type"])
                for channel in channels_of(event):
                    if channel in channels:
                        cursors[channel] = frame["cursor"]
                await asyncio.to_thread(save_cursors, dict(cursors))
            elif frame["type"] == "reset":
                show("too far behind: reload", frame["channel"], "over the REST API")
                cursors[frame["channel"]] = frame["cursor"]
            else:
                show(frame)


async def main() -> None:
    url, token, *conversations = sys.argv[1:]
    channels = ["inbox", *(f"conversation:{c}" for c in conversations)]
    delay = 1.0
    while True:
        try:
            await follow(url, token, channels)
        except websockets.ConnectionClosed as closed:
            code = closed.rcvd.code if closed.rcvd else 1006
            if code not in RESUMABLE:
                raise SystemExit(f"closed with {code}: {closed}") from None
        except OSError as exc:
            show("connection failed:", exc)
        await asyncio.sleep(delay)  # then reconnect and resume from the stored cursors
        delay = min(delay * 2, 30.0)


if __name__ == "__main__":
    asyncio.run(main())
