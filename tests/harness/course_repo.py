"""A real git repository of course material, served on loopback by ``git daemon`` (git's own
protocol: nbgitpuller clones shallowly, which git's dumb HTTP cannot serve), as a workshop's
course repository is served by a forge in production."""
from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

from tests.harness.hub import free_port, wait_until

NOTEBOOK = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# Welcome to the workshop\n"]},
                      {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                       "source": ["print('course material')\n"]}],
            "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


class CourseRepo:
    """A bare repository with a README and a notebook on ``main``, served until ``close``."""

    def __init__(self, root: Path):
        self.root = root
        work, self.bare = root / "work", root / "served" / "course.git"
        work.mkdir(parents=True)
        (work / "README.md").write_text("# GPU workshop\n\nExercises for the day.\n")
        (work / "01-welcome.ipynb").write_text(json.dumps(NOTEBOOK))
        git = ["git", "-c", "user.name=Trainer", "-c", "user.email=trainer@example.eu"]
        subprocess.run([*git, "init", "-q", "-b", "main", str(work)], check=True)
        subprocess.run([*git, "-C", str(work), "add", "."], check=True)
        subprocess.run([*git, "-C", str(work), "commit", "-q", "-m", "Course material"], check=True)
        subprocess.run(["git", "clone", "-q", "--bare", str(work), str(self.bare)], check=True)
        for path in [root, *root.rglob("*")]:  # compute-node jobs run as the participants
            path.chmod(path.stat().st_mode | 0o055)
        self.port = free_port()
        self.proc = subprocess.Popen(["git", "daemon", "--reuseaddr", "--export-all", "--listen=127.0.0.1",
                                      f"--port={self.port}", f"--base-path={root / 'served'}", str(root / "served")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)  # `git daemon` runs git-daemon as its child
        wait_until(lambda: subprocess.run(["git", "ls-remote", self.url], capture_output=True, timeout=10).returncode
                   == 0, 30, "the course repository served")

    @property
    def url(self) -> str:
        return f"git://127.0.0.1:{self.port}/course.git"

    def close(self) -> None:
        """Stop the server and its child (terminating `git daemon` alone leaves git-daemon serving)."""
        os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(timeout=10)
