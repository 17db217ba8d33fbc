"""The real single-node Slurm cluster as a session fixture (tests/conftest.py offers it to every tier),
and helpers for tests that use it."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.conftest import unavailable
from tests.harness.hub import REPO

CLUSTER_SCRIPT = REPO / "tests" / "cluster" / "slurm_cluster.py"


@dataclass(frozen=True)
class Cluster:
    slurm_conf: Path
    user_env: Path
    node: str

    def run(self, *argv: str, user: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        """Run a Slurm command (as ``user`` through sudo, like the hub does)."""
        prefix = ["sudo", "--preserve-env=SLURM_CONF", "-u", user] if user else []
        return subprocess.run([*prefix, *argv], capture_output=True, text=True, timeout=60, check=check,
                              env={**os.environ, "SLURM_CONF": str(self.slurm_conf)})


def cluster_command(command: str, timeout: float) -> str:
    proc = subprocess.run([sys.executable, str(CLUSTER_SCRIPT), command], capture_output=True, text=True,
                          timeout=timeout)
    if proc.returncode != 0:
        pytest.fail(f"slurm_cluster.py {command} failed:\n{proc.stdout}{proc.stderr}", pytrace=False)
    return proc.stdout


@pytest.fixture(scope="session")
def slurm_cluster():
    if os.geteuid() != 0:
        unavailable("the Slurm tier starts daemons and Unix users: run the tests as root")
    cluster_command("up", timeout=900)
    cluster_command("reset", timeout=120)
    user_env = Path(cluster_command("user-env", timeout=900).rsplit(" ", 1)[1].strip())
    cluster_command("hub-env", timeout=900)  # hubs on Slurm run as the service user from it (harness/hub.py)
    slurm_conf = Path(cluster_command("env", timeout=30).split("=", 1)[1].strip())
    os.environ["SLURM_CONF"] = str(slurm_conf)
    node = subprocess.run(["sinfo", "--noheader", "--format=%n"], capture_output=True, text=True, check=True,
                          env={**os.environ, "SLURM_CONF": str(slurm_conf)}).stdout.split()[0]
    yield Cluster(slurm_conf=slurm_conf, user_env=user_env, node=node)
    cluster_command("down", timeout=120)


def job_environment(cluster: Cluster, job_id: str) -> dict[str, str]:
    """The environment of a running job's processes, read from /proc (we are root on the node)."""
    pids = [line.split()[0] for line in cluster.run("scontrol", "listpids", job_id).stdout.splitlines()[1:]]
    for pid in pids:
        try:
            raw = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            continue
        env = dict(item.split("=", 1) for item in raw.decode(errors="replace").split("\0") if "=" in item)
        if "JUPYTERHUB_API_TOKEN" in env:
            return env
    raise AssertionError(f"no process of job {job_id} carries the session environment (pids {pids})")


@pytest.fixture
def shared_tmp():
    """A directory every Unix user can write (pytest's tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="factoryhub-test-"))
    path.chmod(0o1777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def controller(command: str) -> None:
    """Stop slurmctld (an outage) or bring it back (``up``)."""
    cluster_command(command, timeout=120)


def cluster_site(cluster: Cluster, workdir: Path, **slurm_settings) -> Path:
    """site.example.yaml pointed at the running test cluster, written into ``workdir``.

    Returns the file; ``edit_site`` changes it further."""
    site = yaml.safe_load((REPO / "site.example.yaml").read_text())
    site["slurm"].update(conf=str(cluster.slurm_conf), **slurm_settings)
    # sessions tests run unmetered; tests/slurm/test_quota.py registers projects and meters them
    site["services"]["quota"].update(unregistered_accounts="allow", import_every_seconds=0)
    site["slurm"]["default_environment"]["prefix"] = str(cluster.user_env)
    path = workdir / "site.yaml"
    path.write_text(yaml.safe_dump(site))
    return path


def edit_site(path: Path, edit) -> Path:
    site = yaml.safe_load(path.read_text())
    edit(site)
    path.write_text(yaml.safe_dump(site))
    return path
