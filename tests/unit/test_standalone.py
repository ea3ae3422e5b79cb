"""The repository stands alone: its users have only this repository, so nothing tracked may
point at files outside it (design notes, provider references and the like live in docs/)."""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
THIS = Path(__file__).resolve().relative_to(ROOT).as_posix()  # names the patterns it looks for
# A path that climbs out of the repository into a sibling folder, or an absolute /work path.
OUTSIDE = re.compile(r"\.\./shared|/work/shared|(?<![\w/.])shared/(docs|seed|tools|hooks)/")


def test_no_tracked_file_points_outside_the_repository() -> None:
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    offenders = []
    for name in tracked:
        path = ROOT / name
        if name.endswith((".lock", ".png", ".json")) or name == THIS or not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        offenders += [
            f"{name}:{n}" for n, line in enumerate(text.splitlines(), 1) if OUTSIDE.search(line)
        ]
    assert offenders == [], f"references outside the repository: {offenders}"


def test_the_docs_the_readme_names_exist() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for target in re.findall(r"\]\((docs/[^)#]+)\)", readme):
        assert (ROOT / target).is_file(), target
