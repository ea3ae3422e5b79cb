"""Topic durability comes from settings, never from the broker's defaults."""

import subprocess
import sys

import pytest
from pydantic import ValidationError

from bus.admin import DAY_MS, TopicSettings, topic_specs
from contracts import topics
from devstack.stack import Endpoints


def test_every_topic_gets_the_configured_replication_and_insync_replicas() -> None:
    specs = topic_specs(TopicSettings(replication_factor=3, min_insync_replicas=2))
    assert {s.name for s in specs} == {t.name for t in topics.ALL}
    for spec in specs:
        assert spec.replication_factor == 3
        assert spec.topic_configs["min.insync.replicas"] == "2"
    (dead,) = [s for s in specs if s.name == topics.DEADLETTER]
    assert dead.topic_configs["retention.ms"] == str(30 * DAY_MS)


def test_insync_replicas_above_the_replication_factor_is_refused() -> None:
    with pytest.raises(ValidationError, match="cannot exceed"):
        TopicSettings(replication_factor=1, min_insync_replicas=2)


def test_the_command_refuses_impossible_durability_and_accepts_the_running_broker(
    stack: Endpoints,
) -> None:
    env = {**stack.env(), "PATH": "/usr/bin:/bin"}
    command = [sys.executable, "-m", "omnicli", "topics", "create"]
    bad = subprocess.run(
        [*command, "--min-insync-replicas", "2"], env=env, capture_output=True, text=True
    )
    assert bad.returncode == 2
    assert "cannot exceed" in bad.stderr
    ok = subprocess.run(
        [*command, "--deadletter-retention-days", "45"], env=env, capture_output=True, text=True
    )
    assert ok.returncode == 0, ok.stderr
    assert "nothing (all exist)" in ok.stdout
