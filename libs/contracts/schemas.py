"""JSON Schemas of the wire format, generated from the models and committed to the repository.

A test compares the committed files with a fresh export, so a model change that is not
exported (and reviewed as a wire-format change) fails the build.
"""

import json
from pathlib import Path

from pydantic import TypeAdapter

from contracts.topics import ALL

SCHEMA_DIR = Path(__file__).parent / "schemas"


def render() -> dict[str, str]:
    """File name → JSON text, one schema per topic."""
    out: dict[str, str] = {}
    for topic in ALL:
        schema = TypeAdapter(topic.schema).json_schema(mode="serialization")
        schema["title"] = topic.name
        schema["description"] = f"Events on {topic.name}, keyed by {topic.keyed_by}."
        out[f"{topic.name}.schema.json"] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    return out


def export(directory: Path = SCHEMA_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render().items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
