"""Dashboard servers on the real cluster (issue 17): a published dashboard is a Slurm job on the GPU
partition charged to the owner's project through the usual hold, serves only its Voila page, and
its hold is settled from the job's real run time when it stops."""
from __future__ import annotations

import datetime as dt
import os
import pwd
import shutil

import pytest
import requests

from tests.harness.hub import REPO, HubProcess, wait_until
from tests.slurm.conftest import cluster_site, edit_site

pytestmark = pytest.mark.slurm
ACCOUNT = "sme-visionai"
NOTEBOOK = "dashboards/sensor-preparation.ipynb"


def put_in_home(user: str, relative: str, source) -> None:
    entry = pwd.getpwnam(user)
    target = os.path.join(entry.pw_dir, relative)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    shutil.copy(source, target)
    for path in (os.path.dirname(target), target):
        os.chown(path, entry.pw_uid, entry.pw_gid)


@pytest.fixture(scope="module")
def hub(slurm_cluster, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("dashboards-hub")

    def edit(site):
        site["services"]["quota"].update(unregistered_accounts="refuse")
        site["services"]["dashboards"] = {"max_viewers_per_dashboard": 2}
    site = edit_site(cluster_site(slurm_cluster, workdir), edit)
    put_in_home("alice", NOTEBOOK, REPO / "notebooks" / NOTEBOOK)
    put_in_home("alice", "data/make_sensor_data.py", REPO / "notebooks/data/make_sensor_data.py")
    try:
        with HubProcess(workdir, site_file=site) as hub:
            hub.tokens = {name: hub.api_token(name) for name in ("ops", "alice")}
            hub.quota = f"{hub.url}/services/factoryhub-quota/api/v1"
            hub.dashboards = f"{hub.url}/services/factoryhub-dashboards/api/v1"
            wait_until(lambda: requests.get(f"{hub.quota}/health", timeout=2).status_code == 200, 60, "quota")
            today = dt.date.today()
            ops = {"Authorization": f"token {hub.tokens['ops']}"}
            made = requests.post(f"{hub.quota}/projects", headers=ops, timeout=30,
                                 json={"account": ACCOUNT, "title": "Vision AI", "members": ["alice"]})
            assert made.status_code in (201, 409), made.text
            granted = requests.post(f"{hub.quota}/projects/{ACCOUNT}/allocations", headers=ops, timeout=30, json={
                "gpu_hours": 100, "starts_on": (today - dt.timedelta(days=1)).isoformat(),
                "ends_on": (today + dt.timedelta(days=30)).isoformat()})
            assert granted.status_code == 201, granted.text
            yield hub
    finally:
        slurm_cluster.run("sacctmgr", "--immediate", "modify", "account", ACCOUNT, "set", "GrpTRESMins=gres/gpu=-1",
                          check=False)


def as_alice(hub) -> dict:
    return {"Authorization": f"token {hub.tokens['alice']}"}


def held(hub) -> float:
    project = requests.get(f"{hub.quota}/projects/{ACCOUNT}", headers={"Authorization": f"token {hub.tokens['ops']}"},
                           timeout=30).json()
    return project["held_gpu_hours"]


def dashboard(hub) -> dict:
    return requests.get(f"{hub.dashboards}/dashboards/alice/gpu-demo", headers=as_alice(hub), timeout=30).json()


def test_a_dashboard_runs_as_a_gpu_job_charged_to_the_owners_project_and_settles_its_hold(hub, slurm_cluster):
    published = requests.post(f"{hub.dashboards}/dashboards", headers=as_alice(hub), timeout=120, json={
        "name": "gpu-demo", "title": "Sensor readings on a GPU", "notebook": NOTEBOOK, "profile": "gpu-1",
        "account": ACCOUNT, "walltime_hours": 1})
    assert published.status_code == 201, published.text
    try:
        wait_until(lambda: dashboard(hub)["state"] == "running", 180, "the dashboard's server running", interval=1)
        ops = {"Authorization": f"token {hub.tokens['ops']}"}  # a server's state is for admins
        job_id = requests.get(f"{hub.url}/hub/api/users/alice", headers=ops, timeout=30).json()[
            "servers"]["dash-gpu-demo"]["state"]["job_id"]
        squeue = slurm_cluster.run("squeue", "--noheader", "-j", job_id, "--format=%a %P %b %k").stdout.split()
        assert squeue == [ACCOUNT, "gpu", "gres:gpu:h100:1", "factoryhub:factoryhub:alice:dash-gpu-demo"]
        assert held(hub) == pytest.approx(1, abs=0.01)  # 1 GPU x 1 h x price 1, held before sbatch

        session = hub.login("alice")
        page = session.get(f"{hub.url}{dashboard(hub)['url']}", timeout=120)
        assert page.status_code == 200 and "application/vnd.jupyter.widget-view+json" in page.text
        assert "def prepare(" not in page.text
        for path in ("lab", "api/contents", "api/kernels", "terminals/", "api/terminals"):
            assert session.get(f"{hub.url}/user/alice/dash-gpu-demo/{path}", timeout=30).status_code == 404, path

        stopped = requests.post(f"{hub.dashboards}/dashboards/alice/gpu-demo/stop", headers=as_alice(hub), timeout=60)
        assert stopped.status_code == 202, stopped.text
        wait_until(lambda: dashboard(hub)["state"] == "stopped", 120, "the dashboard's server stopped", interval=1)
        assert held(hub) < 0.05  # settled from the job's seconds, not the hour held

        def accounted():
            row = slurm_cluster.run("sacct", "-X", "-n", "-P", "-j", job_id,
                                    "--format=Account,Partition,AllocTRES").stdout.strip()
            return all(row.split("|")) and row  # slurmdbd may fill the partition in after the TRES
        row = wait_until(accounted, 60, "the job's accounting record with account, partition and TRES")
        assert row.startswith(f"{ACCOUNT}|gpu|") and "gres/gpu=1" in row
    finally:
        requests.delete(f"{hub.dashboards}/dashboards/alice/gpu-demo", headers=as_alice(hub), timeout=120)
