import pytest

from config import KafkaSettings, SettingsError, load


def test_a_missing_setting_stops_startup_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("KAFKA_BOOTSTRAP", raising=False)
    with pytest.raises(SettingsError, match="KAFKA_BOOTSTRAP"):
        load(KafkaSettings)


def test_a_malformed_setting_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    monkeypatch.setenv("KAFKA_IDEMPOTENT", "perhaps")
    with pytest.raises(SettingsError, match="KAFKA_IDEMPOTENT"):
        load(KafkaSettings)
