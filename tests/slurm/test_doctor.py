"""`factoryhub doctor` against the test cluster, as the hub's service user: every check holds on a
healthy install, and each broken condition is named with its fix."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.harness.hub import HUB_ENV, SERVICE_USER, HubProcess, hand_over
from tests.slurm.conftest import cluster_command, cluster_site

pytestmark = pytest.mark.slurm
CHECKS = ["site", "service user", "state dir", "tls", "quota database", "catalogue database", "hub database",
          "munge", "slurm", "root jobs", "sudo rule", "submit", "hub from compute nodes"]


@pytest.fixture(scope="module")
def hub(slurm_cluster, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("doctor-hub")
    with HubProcess(workdir, site_file=cluster_site(slurm_cluster, workdir)) as hub:  # services migrate at start
        yield hub


def doctor(hub, cluster, site: Path | None = None) -> tuple[int, dict[str, str]]:
    """Run doctor as the service user; (exit code, check name -> its line)."""
    argv = [str(HUB_ENV / "bin" / "python"), "-m", "factoryhub.cli", "doctor", str(site or hub.site_file),
            "--test-user", "alice", f"--hub-connect-url=http://127.0.0.1:{hub.hub_port}"]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=180, cwd=hub.workdir,
                          env={"PATH": "/usr/bin:/bin", "SLURM_CONF": str(cluster.slurm_conf)},
                          user=SERVICE_USER, group=SERVICE_USER, extra_groups=[])
    lines = {}
    for line in proc.stdout.splitlines():
        if line.startswith(("OK   ", "FAIL ")):
            lines[line[5:].split(":", 1)[0]] = line
    assert proc.stdout.strip().endswith("checks passed"), proc.stdout + proc.stderr
    return proc.returncode, lines


def variant(hub, edit) -> Path:
    """A copy of the hub's site file with ``edit`` applied, readable by the service user."""
    site = yaml.safe_load(hub.site_file.read_text())
    edit(site)
    path = hub.workdir / "doctor-variant.yaml"
    path.write_text(yaml.safe_dump(site))
    hand_over(hub.workdir, SERVICE_USER)
    return path


def test_every_check_holds_on_a_healthy_install(hub, slurm_cluster):
    code, lines = doctor(hub, slurm_cluster)
    assert list(lines) == CHECKS
    assert all(line.startswith("OK") for line in lines.values()), "\n".join(lines.values())
    assert code == 0
    assert "exactly the shipped rule" in lines["sudo rule"]
    assert "COMPLETED" in lines["submit"] and "COMPLETED" in lines["hub from compute nodes"]


def test_a_missing_sudo_rule_is_named_with_its_fix(hub, slurm_cluster):
    rule, parked = Path("/etc/sudoers.d/factoryhub"), Path("/etc/sudoers.d/factoryhub.parked")  # '.': sudo skips it
    rule.rename(parked)
    try:
        code, lines = doctor(hub, slurm_cluster)
    finally:
        parked.rename(rule)
    assert code == 1
    assert lines["sudo rule"].startswith("FAIL sudo rule: no sudo rights")
    assert "fix: install the shipped rule: factoryhub sudoers" in lines["sudo rule"]
    assert lines["submit"].startswith("FAIL submit: as alice: sbatch as alice failed")


def test_a_stopped_munge_is_named_with_its_fix(hub, slurm_cluster):
    cluster_command("stop-munge", timeout=60)
    try:
        code, lines = doctor(hub, slurm_cluster)
    finally:
        cluster_command("up", timeout=300)
    assert code == 1
    assert lines["munge"].startswith("FAIL munge:")
    assert "fix: start munged" in lines["munge"]


def test_an_unmigrated_database_is_named_with_its_fix(hub, slurm_cluster):
    fresh = hub.workdir / "never-migrated-quota.sqlite"
    site = variant(hub, lambda s: s["databases"].update(quota=f"sqlite:///{fresh}"))
    code, lines = doctor(hub, slurm_cluster, site)
    assert code == 1
    assert lines["quota database"].startswith("FAIL quota database: at migration none, the code needs ")
    assert "fix: start the hub once (services migrate at start)" in lines["quota database"]
    assert lines["catalogue database"].startswith("OK")


def test_an_unwritable_state_dir_is_named_with_its_fix(hub, slurm_cluster, tmp_path):
    foreign = hub.workdir / "root-owned-state"
    foreign.mkdir()
    site = variant(hub, lambda s: s["hub"].update(state_dir=str(foreign)))
    os.chown(foreign, 0, 0)  # after hand_over: the state dir belongs to root, as after a careless restore
    foreign.chmod(0o755)
    try:
        code, lines = doctor(hub, slurm_cluster, site)
    finally:
        shutil.rmtree(foreign)
    assert code == 1
    assert lines["state dir"].startswith(f"FAIL state dir: {foreign} belongs to uid 0, not {SERVICE_USER}")
    assert f"fix: chown -R {SERVICE_USER}: {foreign} && chmod 700 {foreign}" in lines["state dir"]
