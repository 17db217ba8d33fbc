"""Nothing lost, nothing orphaned, nothing doubled: a hub killed alone with running and pending sessions."""
from __future__ import annotations

import time

import pytest
import requests

from tests.harness.hub import HubProcess, wait_until
from tests.slurm.conftest import cluster_site, edit_site

pytestmark = pytest.mark.slurm
HUB_ID = "restart-test"
MANAGED_SERVICES = {"factoryhub.quota.service", "factoryhub.catalogue.service", "factoryhub.workshops.service",
                    "factoryhub.dashboards.service", "factoryhub.announcements.service",
                    "factoryhub.spawners.slurm.reconciler", "factoryhub.orphan_guard"}


@pytest.fixture(scope="module")
def site_file(slurm_cluster, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("restart-hub")
    small = {"partition": "gpu", "gpu_type": "h100", "cpus": 1, "memory_gb": 1, "max_walltime_hours": 1,
             "default_walltime_hours": 1}

    def edit(site):
        site["sessions"]["named_servers_per_user"] = 2
        site["profiles"] += [{"id": "tiny-gpu", "title": "1 GPU", "gpus": 1, **small},
                             {"id": "two-gpus", "title": "2 GPUs", "gpus": 2, **small}]

    site = cluster_site(slurm_cluster, workdir, hub_id=HUB_ID, reconcile_every_seconds=5, orphan_grace_seconds=5)
    return edit_site(site, edit)


def api(hub, tokens, user, method, path, **kw):
    return requests.request(method, f"{hub.url}/hub/api{path}", timeout=60,
                            headers={"Authorization": f"token {tokens[user]}"}, **kw)


def servers(hub, tokens, user) -> dict:
    return api(hub, tokens, "ops", "GET", f"/users/{user}").json()["servers"]


def our_jobs(cluster) -> dict[str, str]:
    """job id -> state of every active job this hub submitted."""
    out = cluster.run("squeue", "--noheader", "--states=PENDING,RUNNING,CONFIGURING", "--format=%i %T %k").stdout
    return {i: s for i, s, k in (line.split() for line in out.splitlines()) if k.startswith(f"factoryhub:{HUB_ID}:")}


def reachable(hub, tokens, user, name) -> bool:
    url = f"{hub.url}/user/{user}/{name + '/' if name else ''}api/status"
    return requests.get(url, headers={"Authorization": f"token {tokens[user]}"}, timeout=30).status_code == 200


def alive(pid: int) -> bool:
    try:
        return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_hub_sigkill_with_running_and_pending_sessions(site_file, slurm_cluster):
    workdir = site_file.parent
    hub = HubProcess(workdir, site_file=site_file, extra_args=["--Spawner.poll_interval=5"]).start()
    try:
        tokens = {u: hub.api_token(u) for u in ("ops", "alice", "bob", "carol")}
        running = [("alice", ""), ("bob", ""), ("carol", "")]
        pending = [("alice", "second"), ("bob", "second")]
        for user, name in running:
            assert api(hub, tokens, user, "POST", f"/users/{user}/servers/{name}",
                       json={"user_options": {"profile": "tiny-gpu"}}).status_code in (201, 202)
        for user, name in running:
            wait_until(lambda: servers(hub, tokens, user).get(name, {}).get("ready"), 120, f"{user} ready")
        for user, name in pending:  # 3 of 4 GPUs are taken: these wait for resources
            assert api(hub, tokens, user, "POST", f"/users/{user}/servers/{name}",
                       json={"user_options": {"profile": "two-gpus"}}).status_code == 202
        wait_until(lambda: list(our_jobs(slurm_cluster).values()).count("PENDING") == 2, 60, "two pending jobs")
        ghost = slurm_cluster.run(  # a job tagged for this hub that no session owns
            "sbatch", "--parsable", "--partition=cpu", "--time=5", "--chdir=/tmp", "--output=/dev/null",
            f"--comment=factoryhub:{HUB_ID}:carol:ghost", "--wrap", "sleep 600", user="carol").stdout.strip()
        jobs_before = set(our_jobs(slurm_cluster)) - {ghost}
        assert len(jobs_before) == 5

        services_before = hub.managed_services()
        assert set(services_before) == MANAGED_SERVICES and all(len(p) == 1 for p in services_before.values())
        left_running = hub.kill_alone()  # as an OOM kill does: proxy and services keep running
        assert set(left_running) >= {pid for pids in services_before.values() for pid in pids}
        hub = HubProcess(workdir, site_file=site_file, port=hub.port, hub_port=hub.hub_port,
                         proxy_api_port=hub.proxy_api_port, extra_args=["--Spawner.poll_interval=5"])
        restarted = time.monotonic()
        hub.launch()
        wait_until(lambda: api(hub, tokens, "ops", "GET", "/users/ops").status_code == 200, 60, "hub API")
        api_seconds = time.monotonic() - restarted
        print(f"\nhub API answered {api_seconds:.1f} s after the restart (3 running + 2 pending sessions)")
        # not held back by the pending sessions' checks (they last until their jobs run, minutes here):
        # the API answers within seconds (about 5 on a busy 2-CPU CI machine; the figure itself is
        # benchmarks/hub_restart.py's, a timed test is not the place for it)
        assert api_seconds < 15, hub.log_tail()

        def one_copy_each():
            now = hub.managed_services()
            old_alive = [pid for pids in services_before.values() for pid in pids if alive(pid)]
            return set(now) == MANAGED_SERVICES and all(len(p) == 1 for p in now.values()) and not old_alive
        wait_until(one_copy_each, 30, "exactly one process of each managed service, none from before")
        print(f"one copy of each managed service {time.monotonic() - restarted:.1f} s after the restart")

        for user, name in running:
            wait_until(lambda: servers(hub, tokens, user).get(name, {}).get("ready"), 60, f"{user} known again")
            assert reachable(hub, tokens, user, name)
        for user, name in pending:
            assert servers(hub, tokens, user).get(name, {}).get("pending"), f"{user}/{name} forgotten"
        wait_until(lambda: ghost not in our_jobs(slurm_cluster), 60, "orphan cancelled")
        assert set(our_jobs(slurm_cluster)) == jobs_before  # nothing else was cancelled

        # Free GPUs: each pending session starts, reports its port to the new hub, is reachable.
        for (user, name), blockers in zip(pending, (["alice"], ["bob", "carol"])):
            for blocker in blockers:
                assert api(hub, tokens, blocker, "DELETE", f"/users/{blocker}/server").status_code in (202, 204)
            wait_until(lambda: servers(hub, tokens, user).get(name, {}).get("ready"), 120, f"{user}/{name} ready")
            assert reachable(hub, tokens, user, name)

        owned = {s["state"]["job_id"] for u in ("alice", "bob", "carol") for s in servers(hub, tokens, u).values()}
        assert set(our_jobs(slurm_cluster)) == owned  # 0 orphans
    finally:
        for user in ("alice", "bob", "carol"):
            for name in ("", "second"):
                requests.delete(f"{hub.url}/hub/api/users/{user}/servers/{name}", timeout=60,
                                headers={"Authorization": f"token {hub.api_token('ops')}"})
        hub.stop()
        slurm_cluster.run("scancel", "--partition=gpu", check=False)
