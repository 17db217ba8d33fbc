"""A scheduler outage: sessions are kept, new spawns fail fast with a clear message."""
from __future__ import annotations

import time

import pytest
import requests

from tests.harness.hub import HubProcess, wait_until
from tests.slurm.conftest import cluster_site, controller

pytestmark = pytest.mark.slurm
OUTAGE_SECONDS = 120


@pytest.fixture(scope="module")
def hub(slurm_cluster, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("outage-hub")
    with HubProcess(workdir, site_file=cluster_site(slurm_cluster, workdir),
                    extra_args=["--Spawner.poll_interval=5"]) as hub:
        yield hub


def test_sessions_survive_a_controller_outage_and_spawns_fail_fast(hub, slurm_cluster):
    tokens = {u: hub.api_token(u) for u in ("ops", "alice", "bob")}

    def server(user):
        return requests.get(f"{hub.url}/hub/api/users/{user}", timeout=10,
                            headers={"Authorization": f"token {tokens['ops']}"}).json()["servers"].get("")

    def post(user, options):
        return requests.post(f"{hub.url}/hub/api/users/{user}/server", json={"user_options": options},
                             headers={"Authorization": f"token {tokens[user]}"}, timeout=60)

    assert post("alice", {"profile": "cpu-small"}).status_code in (201, 202)
    wait_until(lambda: (server("alice") or {}).get("ready"), 120, "alice ready")
    controller("stop-controller")
    try:
        outage_began = time.monotonic()
        deadline = outage_began + OUTAGE_SECONDS
        # At once (the cluster view is still cached: the spawn reaches sbatch, which hangs),
        # once the watcher has seen the outage, and late: every spawn gets the 503 message.
        attempts = [2, 25, 60]
        while time.monotonic() < deadline:
            assert (server("alice") or {}).get("ready"), "a session was dropped during the outage"
            if attempts and time.monotonic() > outage_began + attempts[0]:
                started = time.monotonic()
                resp = post("bob", {"profile": "cpu-small"})
                assert resp.status_code == 503, (attempts[0], resp.status_code, resp.text)
                assert "scheduler is unreachable" in resp.json()["message"]
                assert time.monotonic() - started < 30
                assert server("bob") is None
                attempts.pop(0)
            time.sleep(1)
        assert not attempts
    finally:
        controller("up")
    status = requests.get(f"{hub.url}/user/alice/api/status", timeout=30,
                          headers={"Authorization": f"token {tokens['alice']}"})
    assert status.status_code == 200
    assert "was dropped" not in hub.log_path.read_text()
    requests.delete(f"{hub.url}/hub/api/users/alice/server", timeout=60,
                    headers={"Authorization": f"token {tokens['alice']}"})
    wait_until(lambda: server("alice") is None, 60, "alice stopped after the outage")
