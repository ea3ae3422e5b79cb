"""Recorded webhook bodies under tests/fixtures/<provider>/, with their ``_source`` note
stripped before parsing."""

import json
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def fixture(provider: str, name: str) -> bytes:
    data = json.loads((FIXTURES / provider / f"{name}.json").read_text())
    assert "_source" in data, f"{provider}/{name}.json must say where its shape comes from"
    data.pop("_source")
    return json.dumps(data, ensure_ascii=False).encode()


def names(provider: str, prefix: str = "") -> list[str]:
    return sorted(p.stem for p in (FIXTURES / provider).glob(f"{prefix}*.json"))
