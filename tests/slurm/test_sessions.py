"""FactoryHub's Slurm sessions against the real cluster: GPUs, accounts, refusals, failures."""
from __future__ import annotations

import time

import pytest
import requests

from tests.harness.hub import HubProcess, wait_until
from tests.slurm.conftest import cluster_site, edit_site, job_environment

pytestmark = pytest.mark.slurm

INJECTIONS = ["x\n#SBATCH --uid=0", "a;id", "$(id)", "`id`", "#SBATCH --qos=high", "x\x00y", "../../etc",
              "9" * 400, "-1", "1e308", "NaN", "<script>alert(1)</script>", "proj-genomics"]


@pytest.fixture(scope="module")
def hub(slurm_cluster, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("sessions-hub")
    site = edit_site(cluster_site(slurm_cluster, workdir), lambda site: site["profiles"].append({
        # a profile whose software is missing: the job dies at once
        "id": "broken-env", "title": "Broken environment", "partition": "cpu", "cpus": 1, "memory_gb": 1,
        "environment": {"kind": "python", "prefix": "/opt/does-not-exist"}}))
    with HubProcess(workdir, site_file=site, extra_args=["--Spawner.poll_interval=5"]) as hub:
        hub.tokens = {name: hub.api_token(name) for name in ("ops", "alice", "bob", "carol")}
        yield hub


def headers(hub, user):
    return {"Authorization": f"token {hub.tokens[user]}"}


def server(hub, user) -> dict | None:
    return requests.get(f"{hub.url}/hub/api/users/{user}", headers=headers(hub, "ops"), timeout=10).json()[
        "servers"].get("")


def spawn(hub, user, options) -> requests.Response:
    return requests.post(f"{hub.url}/hub/api/users/{user}/server", headers=headers(hub, user), timeout=120,
                         json={"user_options": options})


def wait_ready(hub, user, timeout=120) -> dict:
    return wait_until(lambda: (server(hub, user) or {}).get("ready") and server(hub, user), timeout,
                      f"{user}'s session ready", interval=0.5)


def stop(hub, user):
    requests.delete(f"{hub.url}/hub/api/users/{user}/server", headers=headers(hub, user), timeout=60)
    wait_until(lambda: server(hub, user) is None, 60, f"{user}'s session stopped")


def jobs_of(cluster, user) -> list[str]:
    out = cluster.run("squeue", "--noheader", f"--user={user}", "--states=PENDING,RUNNING", "--format=%i").stdout
    return out.split()


def test_two_gpu_session_sees_two_devices_and_charges_the_chosen_project(hub, slurm_cluster):
    resp = spawn(hub, "alice", {"profile": "gpu-2", "account": "sme-visionai", "walltime_hours": 1})
    assert resp.status_code in (201, 202), resp.text
    job_id = wait_ready(hub, "alice")["state"]["job_id"]
    try:
        env = job_environment(slurm_cluster, job_id)
        assert len(env["CUDA_VISIBLE_DEVICES"].split(",")) == 2
        assert env["FACTORYHUB_ACCOUNT"] == "sme-visionai" and env["FACTORYHUB_JOB_ID"] == job_id
        assert env["FACTORYHUB_GPUS"] == "2" and env["FACTORYHUB_PARTITION"] == "gpu"
        assert int(env["FACTORYHUB_WALLTIME_END"]) > time.time() + 3000
        squeue = slurm_cluster.run("squeue", "--noheader", "-j", job_id, "--format=%a %P %b %k").stdout.split()
        assert squeue == ["sme-visionai", "gpu", "gres:gpu:h100:2", "factoryhub:factoryhub:alice:"]
        status = requests.get(f"{hub.url}/user/alice/api/status", headers=headers(hub, "alice"), timeout=30)
        assert status.status_code == 200
    finally:
        stop(hub, "alice")
    def accounted():  # slurmdbd fills a job's record in stages: wait for the allocation
        row = slurm_cluster.run("sacct", "-X", "-n", "-P", "-j", job_id, "--format=Account,AllocTRES").stdout.strip()
        return row.split("|")[-1] and row

    row = wait_until(accounted, 30, "accounting")
    assert row.startswith("sme-visionai|") and "gres/gpu=2" in row


@pytest.mark.parametrize("field", ["profile", "account", "walltime_hours"])
def test_hostile_api_options_are_refused_and_submit_nothing(hub, slurm_cluster, field):
    for value in INJECTIONS:
        resp = spawn(hub, "bob", {field: value})
        assert resp.status_code == 400, (value, resp.text)
        assert "Invalid session options — " in resp.json()["message"] and f" ({field}): " in resp.json()["message"], \
            (value, resp.json())  # "Walltime (hours) (walltime_hours): ...": the form's label, then the key
    for options in ({"cmd": "/bin/sh"}, {"batch_submit_cmd": "id"}, {"profile": ["gpu-1", "cpu-small"]},
                    {"walltime_hours": {"$gt": 0}}):
        resp = spawn(hub, "bob", options)
        assert resp.status_code == 400, (options, resp.text)
    assert jobs_of(slurm_cluster, "bob") == []
    assert server(hub, "bob") is None


@pytest.mark.parametrize("field", ["profile", "account", "walltime_hours", "gpus", "reservation"])
def test_hostile_form_and_query_options_are_refused(hub, slurm_cluster, field):
    session = hub.login("bob")
    for value in INJECTIONS:
        data = {"_xsrf": session.cookies["_xsrf"], "profile": "gpu-1", field: value}
        page = session.post(f"{hub.url}/hub/spawn", timeout=60, data=data)
        text = page.content.decode()  # the page declares utf-8 in <meta>, not in its header
        assert page.status_code == 400 and "Invalid session options — " in text and f" ({field}): " in text, \
            (field, value)
        assert "<script>alert(1)</script>" not in text
        query = session.get(f"{hub.url}/hub/spawn", params={f"opt-{key}": v for key, v in data.items()
                                                             if key != "_xsrf"}, timeout=60)
        assert "Invalid session options — " in query.content.decode() and f" ({field}): " in query.content.decode(), \
            (field, value)
    assert jobs_of(slurm_cluster, "bob") == []
    assert server(hub, "bob") is None


def test_spawn_form_lists_the_users_projects(hub):
    page = hub.login("alice").get(f"{hub.url}/hub/spawn", timeout=30).text
    assert '<option value="proj-climate"' in page and '<option value="sme-visionai"' in page
    assert "proj-genomics" not in page


def test_the_port_callback_accepts_only_the_port_from_the_servers_own_token(hub, slurm_cluster):
    assert spawn(hub, "carol", {"profile": "cpu-small"}).status_code in (201, 202)
    job_id = wait_ready(hub, "carol")["state"]["job_id"]
    try:
        server_token = job_environment(slurm_cluster, job_id)["JUPYTERHUB_API_TOKEN"]
        url = f"{hub.url}/hub/api/batchspawner"
        as_server = {"Authorization": f"token {server_token}"}
        for body in ({"port": 1, "batch_submit_cmd": "bash -c id"}, {"exec_prefix": "sudo -u root"},
                     {"batch_cancel_cmd": "true", "port": 2}, {"port": "22"}):
            resp = requests.post(url, json=body, headers=as_server, timeout=10)
            assert resp.status_code == 400, resp.text
        resp = requests.post(url, json={"port": 2}, headers=headers(hub, "carol"), timeout=10)
        assert resp.status_code == 403  # the user's own token is not the server's
        status = requests.get(f"{hub.url}/user/carol/api/status", headers=headers(hub, "carol"), timeout=30)
        assert status.status_code == 200  # nothing about the running session changed
        assert "refused keys: batch_submit_cmd" in hub.log_path.read_text()
    finally:
        stop(hub, "carol")


def test_scancel_shows_the_session_stopped_within_one_poll(hub, slurm_cluster):
    assert spawn(hub, "carol", {"profile": "cpu-small"}).status_code in (201, 202)
    job_id = wait_ready(hub, "carol")["state"]["job_id"]
    slurm_cluster.run("scancel", job_id)
    started = time.monotonic()
    wait_until(lambda: server(hub, "carol") is None, 30, "stopped session noticed")
    assert time.monotonic() - started < 5 + 15 * 1.2 + 5  # poll interval + a slow watcher tick + slack
    assert f"job {job_id} CANCELLED" in hub.log_path.read_text()


def test_a_job_that_dies_early_shows_its_output(hub, slurm_cluster):
    resp = spawn(hub, "bob", {"profile": "broken-env"})
    if resp.status_code in (201, 202):  # slow path: the failure arrives through the progress stream
        wait_until(lambda: server(hub, "bob") is None, 60, "failed spawn cleaned up")
        text = hub.log_path.read_text()
    else:
        text = resp.json()["message"]
    assert "ended (" in text and "before JupyterLab started" in text
    assert "jupyterhub-singleuser is not installed in this session's environment" in text  # the output's tail


def test_a_project_without_budget_is_refused_at_once(hub, slurm_cluster):
    slurm_cluster.run("sacctmgr", "--immediate", "modify", "account", "proj-genomics", "set",
                      "GrpTRESMins=gres/gpu=0")
    try:
        started = time.monotonic()
        resp = spawn(hub, "carol", {"profile": "gpu-1"})
        if resp.status_code in (201, 202):
            wait_until(lambda: server(hub, "carol") is None, 90, "held spawn refused")
            text = hub.log_path.read_text()
        else:
            text = resp.json()["message"]
        assert "GPU-hour budget is exhausted" in text
        assert time.monotonic() - started < 90  # not the 300 s start timeout
        assert jobs_of(slurm_cluster, "carol") == []  # the held job was cancelled
    finally:
        slurm_cluster.run("sacctmgr", "--immediate", "modify", "account", "proj-genomics", "set",
                          "GrpTRESMins=gres/gpu=-1")


def test_progress_tells_why_the_session_waits_and_its_place_in_the_queue(hub, slurm_cluster):
    blocker = slurm_cluster.run(  # all four GPUs busy
        "sbatch", "--parsable", "--account=proj-genomics", "--partition=gpu", "--gres=gpu:h100:4", "--time=10",
        "--chdir=/tmp", "--output=/dev/null", "--wrap", "sleep 600", user="carol").stdout.strip()
    try:
        wait_until(lambda: "RUNNING" in slurm_cluster.run("squeue", "-h", "-j", blocker, "-o", "%T").stdout, 30,
                   "blocker running")
        assert spawn(hub, "bob", {"profile": "gpu-1"}).status_code in (201, 202)
        messages = []
        with requests.get(f"{hub.url}/hub/api/users/bob/server/progress", headers=headers(hub, "bob"),
                          stream=True, timeout=60) as stream:
            for line in stream.iter_lines(decode_unicode=True):
                if line.startswith("data:"):
                    messages.append(line[5:].strip())
                    if "pending: waiting for a free NVIDIA H100 80GB" in line:
                        break
        assert any("next in line" in m for m in messages), messages
        stop(hub, "bob")
        assert jobs_of(slurm_cluster, "bob") == []
    finally:
        slurm_cluster.run("scancel", blocker)
        if server(hub, "bob") is not None:
            stop(hub, "bob")


def test_reservation_and_gpu_count_reach_the_job(hub, slurm_cluster):
    slurm_cluster.run("scontrol", "create", "reservation", "reservationname=fh-workshop", "users=alice",
                      "starttime=now", "duration=10", f"nodes={slurm_cluster.node}", "flags=ignore_jobs")
    try:
        resp = spawn(hub, "alice", {"profile": "gpu-4-finetune", "gpus": 1, "reservation": "fh-workshop"})
        if resp.status_code == 400 and "not an active reservation" in resp.text:
            pytest.fail("the reservation was not offered (cluster view cache too old?)")
        assert resp.status_code in (201, 202), resp.text
        job_id = wait_ready(hub, "alice")["state"]["job_id"]
        squeue = slurm_cluster.run("squeue", "--noheader", "-j", job_id, "--format=%v %b").stdout.split()
        assert squeue == ["fh-workshop", "gres:gpu:h100:1"]
        stop(hub, "alice")
        assert spawn(hub, "bob", {"profile": "cpu-small", "reservation": "fh-workshop"}).status_code == 400
    finally:
        if server(hub, "alice") is not None:
            stop(hub, "alice")  # Slurm keeps a reservation that still has jobs
        slurm_cluster.run("scontrol", "delete", "reservationname=fh-workshop", check=False)


def test_a_hub_user_who_is_no_cluster_user_is_told_how_to_get_access(hub, slurm_cluster):
    resp = spawn(hub, "ops", {"profile": "cpu-small"})  # ops is a hub admin with no Slurm association
    assert resp.status_code == 400
    assert "you belong to no project (Slurm account) on this cluster" in resp.json()["message"]
    assert server(hub, "ops") is None
