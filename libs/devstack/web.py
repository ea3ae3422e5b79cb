"""The web inbox's assets for ``omni dev``: built with npm when its sources changed since the
last build (a stamp named by their hash sits in ``web/dist``), so a restart costs nothing."""

import hashlib
import shutil
import subprocess
from pathlib import Path

SOURCES = ("src", "index.html", "package.json", "package-lock.json", "vite.config.ts")


def sources_hash(web: Path) -> str:
    digest = hashlib.sha256()
    for name in SOURCES:
        path = web / name
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if file.is_file():
                digest.update(str(file.relative_to(web)).encode())
                digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def build_web(web: Path) -> tuple[bool, str]:
    """(built or already fresh, what happened). Never raises: the API runs without the inbox."""
    if not (web / "package.json").is_file():
        return False, "no web/ folder"
    npm = shutil.which("npm")
    if npm is None:
        return False, "npm not found: install Node.js 20+ to serve the web inbox"
    stamp = web / "dist" / f".built-{sources_hash(web)}"
    if stamp.is_file():
        return True, "up to date"
    steps = [[npm, "run", "build"]]
    if not (web / "node_modules").is_dir():
        steps.insert(0, [npm, "ci", "--no-audit", "--no-fund"])
    for step in steps:
        done = subprocess.run(step, cwd=web, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            tail = (done.stdout + done.stderr).strip().splitlines()[-5:]
            return False, f"`{' '.join(step[1:])}` failed: " + " | ".join(tail)
    stamp.touch()
    return True, "built"
