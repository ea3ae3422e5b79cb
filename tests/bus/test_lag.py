"""The lag arithmetic: pure, with plain values."""

import pytest
from aiokafka import TopicPartition

from bus.lag import Watched, group_lags, parse_groups, partition_lag

TP0, TP1, TP2 = (TopicPartition("omni.inbound", p) for p in range(3))


def test_groups_and_their_topics_are_read_from_one_setting() -> None:
    assert parse_groups(" ingest-worker=omni.inbound, media-worker=omni.media+omni.inbound ,") == [
        Watched("ingest-worker", ("omni.inbound",)),
        Watched("media-worker", ("omni.media", "omni.inbound")),
    ]


@pytest.mark.parametrize("bad", ["ingest-worker", "=omni.inbound", "dispatcher="])
def test_a_group_without_topics_stops_the_exporter_at_startup(bad: str) -> None:
    with pytest.raises(ValueError, match="LAG_GROUPS"):
        parse_groups(bad)


def test_lag_is_what_lies_between_the_commit_and_the_end() -> None:
    assert partition_lag(40, 100) == 60
    assert partition_lag(100, 100) == 0
    # The embedded broker's end may fall short of a commit: never a negative lag.
    assert partition_lag(103, 100) == 0
    # Never committed: no figure, rather than one that looks like a backlog.
    assert partition_lag(None, 100) is None
    assert partition_lag(-1, 100) is None


def test_only_partitions_the_group_committed_get_a_lag() -> None:
    committed = {TP0: 10, TP1: -1}
    ends = {TP0: 15, TP1: 7, TP2: 3}
    assert group_lags(committed, ends) == {TP0: 5}
