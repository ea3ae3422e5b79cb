"""Which failures of a handler are the infrastructure's (wait them out) and which are the
record's (dead-letter it).

Pure. A database failover, an S3 blip or a broker election says nothing about the record being
handled: giving up on it after a few seconds would send good messages to the dead-letter topic
and replay them later out of order. So those are retried for as long as they last; failures
that the same record will always meet (it does not validate, it breaks a constraint) go to the
dead letters at once; anything else gets the bounded retries it always had.
"""

from enum import Enum

import asyncpg
from aiokafka import errors as kafka_errors
from botocore import exceptions as s3_errors
from pydantic import ValidationError


class Fault(Enum):
    INFRASTRUCTURE = "infrastructure"  # wait it out, however long
    RECORD = "record"  # dead-letter at once: retrying cannot help
    UNKNOWN = "unknown"  # bounded retries, then dead-letter


_INFRASTRUCTURE: tuple[type[BaseException], ...] = (
    OSError,  # ConnectionError and friends: refused, reset, unreachable
    TimeoutError,
    asyncpg.PostgresConnectionError,  # the connection was lost or never made
    asyncpg.InterfaceError,  # e.g. the pool was closing, a connection in a bad state
    asyncpg.exceptions.OperatorInterventionError,  # admin shutdown, cannot connect now, ...
    asyncpg.exceptions.InsufficientResourcesError,  # too many connections, disk full
    asyncpg.exceptions.TransactionRollbackError,  # serialization failure, deadlock
    kafka_errors.KafkaConnectionError,
    kafka_errors.KafkaTimeoutError,
    kafka_errors.NodeNotReadyError,
    kafka_errors.NotLeaderForPartitionError,
    kafka_errors.LeaderNotAvailableError,
    kafka_errors.RequestTimedOutError,
    kafka_errors.NotEnoughReplicasError,
    kafka_errors.NotEnoughReplicasAfterAppendError,
    s3_errors.EndpointConnectionError,
    s3_errors.ConnectionClosedError,
    s3_errors.ReadTimeoutError,
    s3_errors.ConnectTimeoutError,
)
_RECORD: tuple[type[BaseException], ...] = (
    ValidationError,
    FileNotFoundError,  # OSErrors of the local machine, not of the network
    PermissionError,
    IsADirectoryError,
    NotADirectoryError,
    asyncpg.exceptions.IntegrityConstraintViolationError,
    asyncpg.exceptions.DataError,
)
# S3 answers that mean "not now": the server's trouble or throttling, not the request's.
_S3_BUSY = frozenset(
    {
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "RequestTimeout",
        "ServiceUnavailable",
        "InternalError",
        "503",
        "500",
    }
)


def _one(exc: BaseException) -> Fault:
    if isinstance(exc, _RECORD):
        return Fault.RECORD
    if isinstance(exc, _INFRASTRUCTURE):
        return Fault.INFRASTRUCTURE
    if isinstance(exc, s3_errors.ClientError):
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if error.get("Code") in _S3_BUSY or status >= 500:
            return Fault.INFRASTRUCTURE
    return Fault.UNKNOWN


def classify(exc: BaseException) -> Fault:
    """The fault behind ``exc``, looking through the exceptions it was raised from (a handler
    often wraps a lost connection in its own error) and into exception groups (a batch written
    by concurrent tasks): one infrastructure fault among them makes the whole an
    infrastructure fault, since retrying is then what the batch needs."""
    if isinstance(exc, BaseExceptionGroup):
        faults = {classify(inner) for inner in exc.exceptions}
        if Fault.INFRASTRUCTURE in faults:
            return Fault.INFRASTRUCTURE
        return Fault.RECORD if faults == {Fault.RECORD} else Fault.UNKNOWN
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        fault = _one(current)
        if fault is not Fault.UNKNOWN:
            return fault
        current = current.__cause__ or current.__context__
    return Fault.UNKNOWN
