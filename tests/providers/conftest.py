"""The provider simulator, started once for the provider adapter tests."""

from collections.abc import Iterator

import pytest

from simulator.server import RunningSimulator, running


@pytest.fixture(scope="session")
def provider_sim() -> Iterator[RunningSimulator]:
    with running() as sim:
        yield sim
