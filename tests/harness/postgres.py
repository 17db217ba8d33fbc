"""A real PostgreSQL server for tests: Debian's binaries, a private data directory, a free port.

Runs as the ``postgres`` system user (the server refuses root); the caller must be root
or that user. ``PostgresServer.database()`` hands out a fresh, empty database per test.
"""
from __future__ import annotations

import glob
import itertools
import os
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tests.harness.hub import free_port, wait_until


def postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


@dataclass
class PostgresServer:
    bin_dir: Path
    port: int = field(default_factory=free_port)
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="factoryhub-pg-")))
    proc: subprocess.Popen | None = None
    _names: itertools.count = field(default_factory=lambda: itertools.count(1))

    def _as_postgres(self, *argv: str, **kw) -> subprocess.CompletedProcess:
        prefix = [] if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--"]
        return subprocess.run([*prefix, *argv], capture_output=True, text=True, check=True, timeout=120, **kw)

    def start(self) -> PostgresServer:
        self.root.chmod(0o755)
        shutil.chown(self.root, "postgres", "postgres")
        data = self.root / "data"
        self._as_postgres(str(self.bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                          "--no-sync", "-E", "UTF8")
        prefix = [] if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--"]
        self.proc = subprocess.Popen(
            [*prefix, str(self.bin_dir / "postgres"), "-D", str(data), "-p", str(self.port), "-k", str(self.root),
             "-h", "127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
            stdout=open(self.root / "server.log", "ab"), stderr=subprocess.STDOUT, start_new_session=True)
        wait_until(lambda: subprocess.run([str(self.bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                                          capture_output=True).returncode == 0, 60, "PostgreSQL ready")
        return self

    def database(self) -> str:
        """A new empty database; returns its SQLAlchemy URL."""
        name = f"test_{next(self._names)}"
        self._as_postgres(str(self.bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                          name)
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)  # "fast" shutdown
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        shutil.rmtree(self.root, ignore_errors=True)
