"""Settings shared by several services, and the one way to load settings at startup."""

from config.load import SettingsError, load
from config.shared import (
    AuthSettings,
    CredentialSettings,
    DatabaseSettings,
    EgressSettings,
    EnvironmentSettings,
    KafkaSettings,
    LogSettings,
    S3Settings,
    TraceSettings,
)

__all__ = [
    "AuthSettings",
    "CredentialSettings",
    "DatabaseSettings",
    "EgressSettings",
    "EnvironmentSettings",
    "KafkaSettings",
    "LogSettings",
    "S3Settings",
    "SettingsError",
    "TraceSettings",
    "load",
]
