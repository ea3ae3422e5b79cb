"""Process-wide pieces of a running simulator: its state, the HTTP client the driver posts
webhooks with, and its own base URL (media links point back at it)."""

from dataclasses import dataclass

import httpx

from simulator.state import SimState


@dataclass
class Runtime:
    state: SimState
    http: httpx.AsyncClient
    base_url: str
