"""notebooks/04-scaling-out-with-dask.ipynb, run for real: from inside alice's Slurm session (its
environment, read from the job's processes, as her kernel would have it), it asks the quota
service for the project's balance, sizes a dask-jobqueue SLURMCluster within it, runs its
exercises on the workers (right solutions pass, wrong ones are refused) and cancels the workers."""
from __future__ import annotations

import datetime as dt
import http.server
import json
import shutil
import subprocess
import threading

import pytest
import requests

from tests.harness.hub import REPO, HubProcess, register_project, set_remaining_gpu_hours, wait_until
from tests.harness.notebooks import RunResult
from tests.notebooks.test_run_notebooks import assert_ran_and_checked, copy_notebooks, wrong_solutions
from tests.slurm.conftest import cluster_site, job_environment

pytestmark = pytest.mark.slurm

ACCOUNT, STEM = "sme-visionai", "04-scaling-out-with-dask"


@pytest.fixture(scope="module")
def hub(slurm_cluster, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("notebook-hub")
    try:
        with HubProcess(workdir, site_file=cluster_site(slurm_cluster, workdir)) as hub:
            hub.tokens = {name: hub.api_token(name) for name in ("ops", "alice")}
            hub.quota = register_project(hub, hub.tokens["ops"], ["alice"], gpu_hours=100, account=ACCOUNT)
            yield hub
    finally:
        slurm_cluster.run("sacctmgr", "--immediate", "modify", "account", ACCOUNT, "set", "GrpTRESMins=gres/gpu=-1",
                          check=False)


@pytest.fixture
def alices_session(hub, slurm_cluster):
    user_headers = {"Authorization": f"token {hub.tokens['alice']}"}
    resp = requests.post(f"{hub.url}/hub/api/users/alice/server", headers=user_headers, timeout=120,
                         json={"user_options": {"profile": "gpu-1", "account": ACCOUNT, "walltime_hours": 1}})
    assert resp.status_code in (201, 202), resp.text

    def server():
        user = requests.get(f"{hub.url}/hub/api/users/alice", headers=user_headers, timeout=10).json()
        return user["servers"].get("")
    wait_until(lambda: (server() or {}).get("ready"), 120, "alice's session ready", interval=0.5)
    yield
    requests.delete(f"{hub.url}/hub/api/users/alice/server", headers=user_headers, timeout=60)
    wait_until(lambda: server() is None, 60, "alice's session stopped")


def session_job(slurm_cluster) -> str:
    out = slurm_cluster.run("squeue", "--noheader", "--user=alice", "--states=RUNNING", "--format=%i %j").stdout
    return next(line.split()[0] for line in out.splitlines() if "dask-worker" not in line)


def worker_jobs(slurm_cluster, since: str) -> list[list[str]]:
    out = slurm_cluster.run("sacct", "-X", "-n", "-P", "--user=alice", f"--starttime={since}", "--name=dask-worker",
                            "--format=JobID,Account,AllocTRES,State").stdout
    return [line.split("|") for line in out.splitlines() if line]


@pytest.mark.timeout(600)
def test_scaling_out_notebook_runs_inside_a_session_within_the_quota(hub, slurm_cluster, alices_session, shared_tmp):
    env = job_environment(slurm_cluster, session_job(slurm_cluster))
    # Holds of this session are taken off already: 1.25 GPU-hours left pay for two 30-minute workers, not three
    set_remaining_gpu_hours(hub.quota, hub.tokens["ops"], ACCOUNT, 1.25)
    here = copy_notebooks(shared_tmp / "notebooks")
    shutil.copy(REPO / "tests" / "harness" / "notebooks.py", shared_tmp / "run_notebook.py")
    wrong = wrong_solutions(STEM)
    (shared_tmp / "wrong.json").write_text(json.dumps(wrong))
    subprocess.run(["chown", "-R", "alice", str(shared_tmp)], check=True)
    since = dt.datetime.now().strftime("%Y-%m-%dT%H:%M:%S")

    env.update(FACTORYHUB_NOTEBOOK_SCALE="ci", FACTORYHUB_NOTEBOOK_OUTPUT=str(shared_tmp / "outputs"),
               FACTORYHUB_DATASETS=str(shared_tmp / "no-catalogue"), HOME=str(shared_tmp))
    argv = ["sudo", "-u", "alice", "env", "-i", *(f"{k}={v}" for k, v in env.items()),
            str(slurm_cluster.user_env / "bin" / "python"), str(shared_tmp / "run_notebook.py"), "run",
            str(here / f"{STEM}.ipynb"), "--wrong", str(shared_tmp / "wrong.json"),
            "--result", str(shared_tmp / "result.json"), "--timeout", "400"]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=560, cwd=shared_tmp)
    assert (shared_tmp / "result.json").exists(), proc.stderr[-3000:]
    result = RunResult.from_json((shared_tmp / "result.json").read_text())
    print(f"{STEM}: {result.seconds:.1f} s in the kernel")
    assert_ran_and_checked(result, wrong)
    said = "".join(result.outputs)

    assert f"project {ACCOUNT}" in said
    assert "1.25 GPU-hours left" in said
    assert "Budget allows 2 of the 3 workers wanted" in said
    assert "#SBATCH -A sme-visionai" in said and "#SBATCH --gres=gpu:h100:1" in said
    assert "2 workers connected" in said
    assert f"Dashboard: {env['JUPYTERHUB_SERVICE_PREFIX'].rstrip('/')}/proxy/" in said

    # the workers were Slurm jobs charged to the session's project, one GPU each, and are gone now
    jobs = wait_until(lambda: (j := worker_jobs(slurm_cluster, since)) and len(j) >= 2
                      and all(row[3] not in ("RUNNING", "PENDING") for row in j) and j, 60, "worker jobs ended")
    assert len(jobs) == 2, jobs
    assert all(row[1] == ACCOUNT and "gres/gpu=1" in row[2] for row in jobs), jobs
    placed = [line for line in said.splitlines() if line.startswith("worker ")]
    assert len(placed) == 2 and {line.rsplit(" ", 1)[1] for line in placed} == {row[0] for row in jobs}, placed


def test_the_dashboard_link_reaches_a_port_of_the_session_node_through_the_hub(hub, slurm_cluster, alices_session):
    """jupyter-server-proxy in the session forwards …/proxy/<port>/ behind the hub login, as the
    notebook's dashboard link expects (a stand-in server plays the scheduler's dashboard)."""
    class Dashboard(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"dask dashboard stand-in at " + self.path.encode())

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Dashboard)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        resp = requests.get(f"{hub.url}/user/alice/proxy/{port}/status", timeout=30,
                            headers={"Authorization": f"token {hub.tokens['alice']}"})
        assert resp.status_code == 200 and resp.text == "dask dashboard stand-in at /status", resp.text[:300]
        stranger = requests.get(f"{hub.url}/user/alice/proxy/{port}/status", timeout=30, allow_redirects=False)
        assert stranger.status_code in (302, 403) and "stand-in" not in stranger.text
    finally:
        server.shutdown()
        server.server_close()
