from telemetry.trace import child, new_traceparent, trace_id


def test_child_keeps_the_trace_and_changes_the_span() -> None:
    parent = new_traceparent()
    kid = child(parent)
    assert trace_id(kid) == trace_id(parent)
    assert kid.split("-")[2] != parent.split("-")[2]


def test_invalid_or_missing_parent_starts_a_new_trace() -> None:
    for bad in (None, "", "garbage", "00-" + "0" * 32 + "-" + "1" * 16 + "-01"):
        assert trace_id(child(bad)) is not None
