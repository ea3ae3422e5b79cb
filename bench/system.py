"""The system under load: inbound webhooks end to end, outbound sends, gateway fan-out.

Filled in as the services land (issue 8); until then the run reports the ceilings alone.
"""

from pathlib import Path
from typing import Any

from devstack.stack import Stack


async def measure(
    stack: Stack, logs: Path, ceilings: dict[str, Any], *, quick: bool
) -> dict[str, Any]:
    return {}
