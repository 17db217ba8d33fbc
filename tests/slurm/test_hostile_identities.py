"""A user or an admin who names a system account, or plants links where the job writes its
output, gets nothing more than their own rights: against the real cluster."""
from __future__ import annotations

import os
import pwd
import secrets
import time

import pytest
import requests

from tests.harness.hub import HubProcess, wait_until
from tests.slurm.conftest import cluster_site, edit_site

pytestmark = pytest.mark.slurm


@pytest.fixture(scope="module")
def hub(slurm_cluster, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("hostile-hub")
    site = edit_site(cluster_site(slurm_cluster, workdir),
                     lambda site: site["services"]["quota"].update(unregistered_accounts="allow"))
    with HubProcess(workdir, site_file=site, extra_args=["--Spawner.poll_interval=5"]) as hub:
        hub.tokens = {name: hub.api_token(name) for name in ("ops", "alice")}
        yield hub


def api(hub, who, method, path, **kw) -> requests.Response:
    return requests.request(method, f"{hub.url}/hub/api{path}", timeout=120,
                            headers={"Authorization": f"token {hub.tokens[who]}"}, **kw)


def jobs_since(cluster, user: str, since: str) -> list[str]:
    out = cluster.run("sacct", "-X", "-n", "-P", f"--user={user}", f"--starttime={since}", "--format=JobID").stdout
    queued = cluster.run("squeue", "--noheader", f"--user={user}", "--format=%i").stdout
    return out.split() + queued.split()


@pytest.mark.parametrize("name", ["root", "daemon", "nobody"])
def test_a_system_account_made_through_the_admin_api_cannot_start_a_session(hub, slurm_cluster, name):
    since = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(time.time() - 1))
    made = api(hub, "ops", "POST", f"/users/{name}")
    assert made.status_code in (201, 409), made.text
    for options in ({"profile": "cpu-small"}, {"profile": "cpu-small", "account": "root"}):
        resp = api(hub, "ops", "POST", f"/users/{name}/server", json={"user_options": options})
        assert resp.status_code == 403, resp.text
        assert "Sessions never run as system accounts" in resp.json()["message"]
    user = api(hub, "ops", "GET", f"/users/{name}").json()
    assert user["servers"] == {}
    assert jobs_since(slurm_cluster, name, since) == []
    api(hub, "ops", "DELETE", f"/users/{name}")


def next_job_id(cluster) -> int:
    """The id the next job will get: submit and cancel a throwaway job."""
    job = cluster.run("sbatch", "--parsable", "--partition=cpu", "--time=1", "--chdir=/tmp", "--output=/dev/null",
                      "--hold", "--wrap", "true", user="bob").stdout.strip()
    cluster.run("scancel", job)
    return int(job) + 1


def spawn_failure_text(hub, user: str) -> str:
    resp = api(hub, user, "POST", f"/users/{user}/server", json={"user_options": {"profile": "cpu-small"}})
    if resp.status_code in (201, 202):  # slow path: the failure arrives through the progress stream
        events = requests.get(f"{hub.url}/hub/api/users/{user}/server/progress", timeout=120, stream=True,
                              headers={"Authorization": f"token {hub.tokens[user]}"})
        text = events.text
        wait_until(lambda: api(hub, "ops", "GET", f"/users/{user}").json()["servers"] == {}, 60, "spawn ended")
        return text
    return resp.json()["message"]


@pytest.mark.parametrize("target", ["shadow", "other-user"])
def test_a_linked_job_output_never_shows_a_file_the_user_cannot_read(hub, slurm_cluster, tmp_path, target):
    if target == "shadow":
        path = "/etc/shadow"
        with open(path) as shadow:
            secrets_ = [line for line in shadow.read().splitlines() if line.strip()]
    else:  # a file only bob may read
        path = f"/tmp/bob-secret-{secrets.token_hex(4)}"
        secrets_ = [f"bob's secret {secrets.token_hex(8)}"]
        with open(path, "w") as out:
            out.write(secrets_[0] + "\n")
        bob = pwd.getpwnam("bob")
        os.chown(path, bob.pw_uid, bob.pw_gid)
        os.chmod(path, 0o600)
    home = pwd.getpwnam("alice").pw_dir
    first = next_job_id(slurm_cluster)
    links = [f"{home}/.factoryhub-session-{first + i}.log" for i in range(10)]
    for link in links:  # planted as alice, in alice's home, as an attacker would
        slurm_cluster.run("ln", "-sfn", path, link, user="alice")
    try:
        text = spawn_failure_text(hub, "alice")
        assert "ended (" in text and "before JupyterLab started" in text, text[:500]
        log = hub.log_path.read_text()
        assert not any(line in text or line in log for line in secrets_)
    finally:
        for link in links:
            if os.path.islink(link):
                os.unlink(link)
        if target != "shadow":
            os.unlink(path)
