"""A simulator and a webhook receiver (verifying with the real codecs) for the simulator tests."""

from collections.abc import Iterator

import pytest

from simulator.server import RunningSimulator, running
from tests.simulator.receiver import Received, receiver

SECRETS = {
    "meta": {"app_secret": "meta-app-secret"},
    "evolution": {"webhook_secret": "evo-secret-" + "e" * 24},
    "zapi": {"webhook_secret": "zapi-secret-" + "z" * 24},
}


@pytest.fixture(scope="session")
def sim() -> Iterator[RunningSimulator]:
    with running() as server:
        yield server


@pytest.fixture(scope="session")
def hook() -> Iterator[tuple[str, Received]]:
    with receiver(SECRETS) as pair:
        yield pair
