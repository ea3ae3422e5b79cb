"""The committed JSON Schemas are exactly what the models export."""

import json

from contracts import schemas


def test_committed_schemas_match_the_models() -> None:
    rendered = schemas.render()
    committed = {p.name: p.read_text() for p in schemas.SCHEMA_DIR.glob("*.schema.json")}
    assert committed.keys() == rendered.keys(), "run `omni contracts export`"
    for name, text in rendered.items():
        assert committed[name] == text, f"{name} is stale: run `omni contracts export`"


def test_the_check_notices_a_change(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from omnicli.main import main

    schemas.export(tmp_path)
    assert main(["contracts", "export", "--check", "--dir", str(tmp_path)]) == 0
    path = tmp_path / "omni.outbound.schema.json"
    doc = json.loads(path.read_text())
    doc["title"] = "tampered"
    path.write_text(json.dumps(doc))
    assert main(["contracts", "export", "--check", "--dir", str(tmp_path)]) == 1
