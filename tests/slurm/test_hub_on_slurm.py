"""The hub starts a session as a Slurm job for a real Unix user, and stops it."""
from __future__ import annotations

import pytest
import requests

from tests.harness.hub import HubProcess, wait_until
from tests.slurm.conftest import cluster_site

pytestmark = pytest.mark.slurm


@pytest.fixture(scope="module")
def slurm_hub(slurm_cluster, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("slurm-hub")
    with HubProcess(workdir, site_file=cluster_site(slurm_cluster, workdir)) as hub:
        yield hub


def test_session_runs_as_a_slurm_job_and_stopping_cancels_it(slurm_hub, slurm_cluster):
    hub = slurm_hub
    alice = {"Authorization": f"token {hub.api_token('alice')}"}
    admin = {"Authorization": f"token {hub.api_token('ops')}"}

    def server() -> dict | None:
        user = requests.get(f"{hub.url}/hub/api/users/alice", headers=admin, timeout=10).json()
        return user["servers"].get("")

    resp = requests.post(f"{hub.url}/hub/api/users/alice/server", headers=alice, timeout=60,
                         json={"user_options": {"profile": "gpu-1", "walltime_hours": 1}})
    assert resp.status_code in (201, 202), resp.text
    wait_until(lambda: (server() or {}).get("ready"), 180, "Slurm session ready", interval=0.5)
    job_id = server()["state"]["job_id"]

    squeue = slurm_cluster.run("squeue", "--noheader", "-j", job_id, "--format=%u %P %T %b %l").stdout.split()
    assert squeue == ["alice", "gpu", "RUNNING", "gres:gpu:h100:1", "1:00:00"]

    status = requests.get(f"{hub.url}/user/alice/api/status", headers=alice, timeout=30)
    assert status.status_code == 200 and "kernels" in status.json()

    # the lab extension in the job knows its session and reaches the services from the node
    session = requests.get(f"{hub.url}/user/alice/factoryhub/api/session", headers=alice, timeout=30).json()
    account = slurm_cluster.run("squeue", "--noheader", "-j", job_id, "--format=%a").stdout.strip()
    assert (session["job_id"], session["gpus"], session["account"]) == (job_id, 1, account)
    assert 3500 < session["remaining_seconds"] <= 3600 and session["cost_at_walltime_gpu_hours"] == 1.0
    quota = requests.get(f"{hub.url}/user/alice/factoryhub/api/quota", headers=alice, timeout=30)
    assert quota.status_code == 200 and quota.json()["available"] is True, quota.text

    resp = requests.delete(f"{hub.url}/hub/api/users/alice/server", headers=alice, timeout=60)
    assert resp.status_code in (202, 204)
    wait_until(lambda: server() is None, 60, "session stopped")
    assert slurm_cluster.run("squeue", "--noheader", "--states=PENDING,RUNNING", "-j", job_id,
                             check=False).stdout.strip() == ""

    def accounted():  # slurmdbd fills a job's record in stages: wait for the finished one
        rows = slurm_cluster.run("sacct", "-X", "-n", "-P", "-j", job_id,
                                 "--format=User,Partition,State,AllocTRES").stdout.splitlines()
        if not rows:
            return None
        user, partition, state, tres = rows[0].split("|")
        return partition and tres and not state.startswith(("RUNNING", "PENDING")) and rows[0]

    user, partition, state, tres = wait_until(accounted, 60, "job in accounting").split("|")
    assert (user, partition) == ("alice", "gpu")
    assert state.startswith("CANCELLED") and "gres/gpu=1" in tres
