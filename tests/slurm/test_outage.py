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
        deadline = time.monotonic() + OUTAGE_SECONDS
        refused = False
        while time.monotonic() < deadline:
            assert (server("alice") or {}).get("ready"), "a session was dropped during the outage"
            if not refused and time.monotonic() > deadline - OUTAGE_SECONDS + 20:
                started = time.monotonic()
                resp = post("bob", {"profile": "cpu-small"})
                assert resp.status_code == 503 and "scheduler is unreachable" in resp.json()["message"]
                assert time.monotonic() - started < 15
                refused = True
            time.sleep(5)
        assert refused
    finally:
        controller("up")
    status = requests.get(f"{hub.url}/user/alice/api/status", timeout=30,
                          headers={"Authorization": f"token {tokens['alice']}"})
    assert status.status_code == 200
    assert "was dropped" not in hub.log_path.read_text()
    requests.delete(f"{hub.url}/hub/api/users/alice/server", timeout=60,
                    headers={"Authorization": f"token {tokens['alice']}"})
    wait_until(lambda: server("alice") is None, 60, "alice stopped after the outage")
