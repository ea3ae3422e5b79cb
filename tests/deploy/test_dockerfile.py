"""The Dockerfile's promises, read from the file (no Docker engine here to build it): several
stages, the final one slim, non-root, without build tools, installing only what uv.lock pins,
and running any entry point by command through `omni`."""

import json
import re
from dataclasses import dataclass, field

from tests.deploy.manifests import DOCKERFILE, ROOT

BUILD_TOOLS = re.compile(r"\b(apt-get|apk|gcc|g\+\+|build-essential|make|uv|pip)\b")


@dataclass
class Stage:
    base: str
    name: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]


def parse(text: str) -> list[Stage]:
    """Instructions per stage; continuation lines joined, comments dropped."""
    logical = re.sub(
        r"\\\n",
        " ",
        "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")),
    )
    stages: list[Stage] = []
    for line in logical.splitlines():
        if not line.strip():
            continue
        keyword, _, args = line.strip().partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            parts = args.split()
            name = parts[2] if len(parts) > 2 and parts[1].upper() == "AS" else ""
            stages.append(Stage(parts[0], name))
        elif stages:
            stages[-1].instructions.append((keyword, args.strip()))
    return stages


def test_build_is_multi_stage_and_installs_from_the_lock_with_uv() -> None:
    stages = parse(DOCKERFILE.read_text())
    assert len(stages) >= 2
    build = " ".join(stages[0].all("RUN"))
    assert "uv sync --frozen --no-dev" in build
    assert any("uv.lock" in args for args in stages[0].all("COPY"))


def test_final_stage_is_slim_non_root_without_build_tools() -> None:
    text = DOCKERFILE.read_text()
    final = parse(text)[-1]
    base_arg = re.search(r"ARG PYTHON_IMAGE=(\S+)", text)
    assert base_arg and "slim" in base_arg[1]
    user = final.all("USER")
    assert user and user[-1].split(":")[0] not in {"root", "0"}
    for args in final.all("RUN"):
        assert not BUILD_TOOLS.search(args), f"build tool in the final stage: {args}"
    copies = final.all("COPY")
    assert copies and all("--from=build" in c or "--from=web" in c for c in copies), (
        "final stage copies only the venv and the web inbox's built assets"
    )


def test_image_runs_any_entry_point_as_an_omni_command() -> None:
    final = parse(DOCKERFILE.read_text())[-1]
    assert json.loads(final.all("ENTRYPOINT")[-1]) == ["omni"]


def test_parser_sees_a_build_tool_smuggled_into_the_final_stage() -> None:
    broken = DOCKERFILE.read_text() + "RUN apt-get update && apt-get install -y gcc\n"
    runs = parse(broken)[-1].all("RUN")
    assert any(BUILD_TOOLS.search(args) for args in runs)


def test_build_context_leaves_out_local_state_and_secrets() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", ".omni", "**/*.env"} <= ignored
