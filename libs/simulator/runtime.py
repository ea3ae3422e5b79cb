"""Process-wide pieces of a running simulator: its state, the HTTP client the driver posts
webhooks with, and its own base URL (media links point back at it)."""

from dataclasses import dataclass

import aiohttp

from simulator.state import SimState


@dataclass
class Runtime:
    state: SimState
    http: aiohttp.ClientSession
    base_url: str
