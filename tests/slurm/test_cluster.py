"""The test cluster itself: GPUs through GRES, accounting, limits by association."""
from __future__ import annotations

import pytest

from tests.harness.hub import wait_until

pytestmark = pytest.mark.slurm


def test_node_offers_four_h100_in_two_partitions(slurm_cluster):
    out = slurm_cluster.run("sinfo", "--noheader", "--format=%P %G %T").stdout.split("\n")
    rows = {line.split()[0].rstrip("*"): line.split()[1:] for line in out if line}
    assert set(rows) == {"gpu", "cpu"}
    assert rows["gpu"] == ["gpu:h100:4", "idle"]


def test_two_gpu_job_sees_two_devices_and_is_charged_to_its_account(slurm_cluster, shared_tmp):
    out = shared_tmp / "job.out"
    job_id = slurm_cluster.run(
        "sbatch", "--parsable", "--account=sme-visionai", "--partition=gpu", "--gres=gpu:h100:2",
        "--time=5", f"--output={out}", f"--chdir={shared_tmp}",
        "--wrap", "echo CUDA_VISIBLE_DEVICES=$CUDA_VISIBLE_DEVICES",
        user="alice").stdout.strip()

    def accounted():
        rows = slurm_cluster.run("sacct", "-X", "-n", "-P", "-j", job_id,
                                 "--format=State,Account,User,AllocTRES").stdout.splitlines()
        # slurmdbd fills a job's record in stages: wait for the finished, allocated one
        return rows and rows[0].split("|")[0] in {"COMPLETED", "FAILED", "CANCELLED"} and rows[0].split("|")[3] \
            and rows[0]

    state, account, user, tres = wait_until(accounted, 60, f"job {job_id} in accounting").split("|")
    assert (state, account, user) == ("COMPLETED", "sme-visionai", "alice")
    assert "gres/gpu=2" in tres
    assert out.read_text().strip() == "CUDA_VISIBLE_DEVICES=0,1"


def test_a_user_cannot_charge_a_project_they_are_not_in(slurm_cluster):
    proc = slurm_cluster.run("sbatch", "--account=proj-genomics", "--partition=gpu", "--time=1",
                             "--wrap", "true", user="bob", check=False)
    assert proc.returncode != 0
    assert "Invalid account" in proc.stderr
