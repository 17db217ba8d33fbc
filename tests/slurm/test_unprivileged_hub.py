"""The hub on Slurm runs as its unprivileged service user, and the shipped sudoers rule lets that
user do exactly what sessions need as their users — nothing else."""
from __future__ import annotations

import os
import pwd
import subprocess
from pathlib import Path

import pytest

from tests.harness.hub import SERVICE_USER, HubProcess, descendants, wait_until
from tests.slurm.conftest import cluster_site

pytestmark = pytest.mark.slurm
SCRIPT = "#!/bin/bash\n#SBATCH --partition=cpu --time=1 --output=/dev/null\ntrue\n"


@pytest.fixture(scope="module")
def hub(slurm_cluster, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("unprivileged-hub")
    with HubProcess(workdir, site_file=cluster_site(slurm_cluster, workdir)) as hub:
        yield hub


def as_service_user(cluster, *argv: str, stdin: str = "", extra_env: dict | None = None):
    """Run ``argv`` as the hub's service user, with the environment the hub has (plus ``extra_env``)."""
    env = {"PATH": "/usr/bin:/bin", "SLURM_CONF": str(cluster.slurm_conf), **(extra_env or {})}
    return subprocess.run(list(argv), input=stdin, capture_output=True, text=True, timeout=60, env=env,
                          user=SERVICE_USER, group=SERVICE_USER, extra_groups=[])


def uid_of(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])


def test_the_hub_its_proxy_and_its_services_run_as_the_service_user(hub):
    service = pwd.getpwnam(SERVICE_USER).pw_uid
    tree = [hub.proc.pid, *descendants(hub.proc.pid)]
    assert len(tree) >= 5  # hub, proxy, quota, catalogue, reconciler (+ idle culler)
    assert {pid: uid_of(pid) for pid in tree} == {pid: service for pid in tree}
    assert service != 0 and os.stat(hub.state_dir).st_uid == service


def test_the_service_user_submits_and_cancels_as_a_session_user(slurm_cluster):
    submit = as_service_user(slurm_cluster, "sudo", "-n", "--preserve-env=SLURM_CONF", "-u", "alice",
                             "sbatch", "--parsable", stdin=SCRIPT)
    assert submit.returncode == 0, submit.stderr
    job = submit.stdout.strip()
    owner = slurm_cluster.run("squeue", "--noheader", "-j", job, "--format=%u", check=False).stdout.strip()
    assert owner in ("alice", "")  # "" once it already finished
    cancel = as_service_user(slurm_cluster, "sudo", "-n", "--preserve-env=SLURM_CONF", "-u", "alice",
                             "scancel", job)
    assert cancel.returncode == 0, cancel.stderr


@pytest.mark.parametrize("argv", [
    ["sudo", "-n", "-u", "alice", "id"],
    ["sudo", "-n", "-u", "alice", "bash", "-c", "id"],
    ["sudo", "-n", "-u", "alice", "sbatch", "--export=ALL,LD_PRELOAD=/tmp/evil.so", "--parsable"],
    ["sudo", "-n", "-u", "alice", "sbatch", "--parsable", "--uid=0"],
    ["sudo", "-n", "-u", "alice", "sbatch", "--wrap", "id"],
    ["sudo", "-n", "-u", "alice", "scancel", "--user=bob"],
    ["sudo", "-n", "-u", "alice", "scancel", "1", "--signal=KILL"],
    ["sudo", "-n", "-u", "alice", "tail", "-n", "5", "--", "/etc/shadow"],
    ["sudo", "-n", "-u", "alice", "tail", "-f", "/home/alice/.factoryhub-session-1.log"],
    ["sudo", "-n", "-u", "root", "sbatch", "--parsable"],
    ["sudo", "-n", "-u", "daemon", "sbatch", "--parsable"],
    ["sudo", "-n", "-u", SERVICE_USER, "sbatch", "--parsable"],
    ["sudo", "-n", "-i"],
    ["sudo", "-n", "-s"],
])
def test_the_service_user_can_run_nothing_else_as_anyone(slurm_cluster, argv):
    result = as_service_user(slurm_cluster, *argv, stdin=SCRIPT)
    assert result.returncode != 0
    assert "password is required" in result.stderr or "not allowed" in result.stderr, result.stderr


def test_no_environment_reaches_the_users_job(slurm_cluster):
    """LD_PRELOAD and anything else the service user sets is dropped (env_reset), even when asked to
    keep it; only SLURM_CONF reaches the user's sbatch (and so the job, which exports it)."""
    script = SCRIPT.replace("true", "env > /tmp/factoryhub-env-probe-$SLURM_JOB_ID")
    smuggled = {"LD_PRELOAD": "/tmp/evil.so", "SMUGGLED": "yes", "BASH_ENV": "/tmp/x"}
    asked = as_service_user(slurm_cluster, "sudo", "-n", "--preserve-env=SLURM_CONF,SMUGGLED", "-u", "alice",
                            "sbatch", "--parsable", stdin=script, extra_env=smuggled)
    assert asked.returncode != 0 and "not allowed to set" in asked.stderr  # asking to keep one is refused
    submit = as_service_user(slurm_cluster, "sudo", "-n", "--preserve-env=SLURM_CONF", "-u", "alice", "sbatch",
                             "--parsable", stdin=script, extra_env=smuggled)
    assert submit.returncode == 0, submit.stderr
    probe = Path(f"/tmp/factoryhub-env-probe-{submit.stdout.strip()}")
    try:
        wait_until(lambda: probe.exists() and "SLURM_JOB_ID=" in probe.read_text(), 60, "the job's environment")
        names = {line.split("=", 1)[0] for line in probe.read_text().splitlines() if "=" in line}
        assert not names & {"LD_PRELOAD", "SMUGGLED", "BASH_ENV"}
        assert "SLURM_CONF" in names
    finally:
        probe.unlink(missing_ok=True)
    submit = as_service_user(slurm_cluster, "sudo", "-n", "--preserve-env=SLURM_CONF", "-u", "alice", "sbatch",
                             "--parsable", "--export=ALL,LD_PRELOAD=/tmp/evil.so", stdin=script)
    assert submit.returncode != 0  # and no sbatch argument can put it back


def test_the_service_user_cannot_read_a_users_home(slurm_cluster):
    home = pwd.getpwnam("alice").pw_dir
    for argv in (["ls", home], ["cat", f"{home}/.bashrc"], ["cat", f"{home}/.profile"]):
        result = as_service_user(slurm_cluster, *argv)
        assert result.returncode != 0 and "Permission denied" in result.stderr, (argv, result.stdout)


def test_the_service_user_is_a_slurm_operator_not_root(slurm_cluster):
    level = slurm_cluster.run("sacctmgr", "--noheader", "--parsable2", "show", "user", SERVICE_USER,
                              "format=AdminLevel").stdout.strip()
    assert level == "Operator"
    assert pwd.getpwnam(SERVICE_USER).pw_uid != 0
