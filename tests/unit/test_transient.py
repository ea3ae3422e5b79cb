"""What a consumer waits out and what it dead-letters (bus.transient), on real exception types."""

import asyncpg
import pytest
from aiokafka.errors import KafkaConnectionError
from botocore.exceptions import ClientError, EndpointConnectionError
from pydantic import BaseModel, ValidationError

from bus.transient import Fault, classify


class _Model(BaseModel):
    n: int


def _validation_error() -> ValidationError:
    try:
        _Model.model_validate({"n": "x"})
    except ValidationError as exc:
        return exc
    raise AssertionError


def _s3(code: str, status: int) -> ClientError:
    return ClientError(
        {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "PutObject"
    )


@pytest.mark.parametrize(
    "exc",
    [
        ConnectionRefusedError(111, "refused"),
        TimeoutError(),
        asyncpg.exceptions.ConnectionDoesNotExistError("gone"),
        asyncpg.exceptions.CannotConnectNowError("starting up"),
        asyncpg.exceptions.TooManyConnectionsError("full"),
        asyncpg.exceptions.SerializationError("retry"),
        KafkaConnectionError(),
        EndpointConnectionError(endpoint_url="http://s3"),
        _s3("SlowDown", 503),
        _s3("InternalError", 500),
    ],
)
def test_infrastructure_faults_are_waited_out(exc: BaseException) -> None:
    assert classify(exc) is Fault.INFRASTRUCTURE


@pytest.mark.parametrize(
    "exc",
    [
        _validation_error(),
        asyncpg.exceptions.ForeignKeyViolationError("no such integration"),
        asyncpg.exceptions.UniqueViolationError("dup"),
        asyncpg.exceptions.InvalidTextRepresentationError("bad uuid"),
    ],
)
def test_faults_of_the_record_are_dead_lettered_at_once(exc: BaseException) -> None:
    assert classify(exc) is Fault.RECORD


def test_other_failures_get_bounded_retries() -> None:
    assert classify(RuntimeError("bug")) is Fault.UNKNOWN
    assert classify(_s3("NoSuchBucket", 404)) is Fault.UNKNOWN


def test_a_wrapped_lost_connection_is_still_the_infrastructure() -> None:
    try:
        try:
            raise ConnectionResetError("reset")
        except ConnectionResetError as inner:
            raise RuntimeError("could not persist") from inner
    except RuntimeError as outer:
        assert classify(outer) is Fault.INFRASTRUCTURE


def test_a_batch_of_concurrent_writes_fails_as_its_worst_fault() -> None:
    refused = ConnectionRefusedError(111, "refused")
    bad = asyncpg.exceptions.ForeignKeyViolationError("x")
    assert classify(ExceptionGroup("batch", [refused, bad])) is Fault.INFRASTRUCTURE
    assert classify(ExceptionGroup("batch", [bad, bad])) is Fault.RECORD
    assert classify(ExceptionGroup("batch", [bad, RuntimeError()])) is Fault.UNKNOWN
