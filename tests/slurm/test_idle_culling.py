"""GPU-aware idle culling against the real cluster: an idle session is stopped, one whose GPU is
busy (a training loop with no notebook traffic) is kept. The GPUs are fake: a fake nvidia-smi on the
jobs' PATH reports what the session's user wrote to ~/.fake-gpu-utilization (0 without it)."""
from __future__ import annotations

import pwd
import time
from pathlib import Path

import pytest
import requests

from tests.harness.hub import HubProcess, wait_until
from tests.slurm.conftest import cluster_site, edit_site

pytestmark = pytest.mark.slurm
FAKE_NVIDIA_SMI = """#!/bin/bash
# FactoryHub tests: a GPU whose utilisation the session's user sets in ~/.fake-gpu-utilization
cat "$HOME/.fake-gpu-utilization" 2>/dev/null || echo 0
"""


@pytest.fixture(scope="module")
def fake_gpu(slurm_cluster):
    tool = Path(slurm_cluster.user_env) / "bin" / "nvidia-smi"
    tool.write_text(FAKE_NVIDIA_SMI)
    tool.chmod(0o755)
    yield
    tool.unlink()
    for user in ("alice", "bob"):
        Path(pwd.getpwnam(user).pw_dir, ".fake-gpu-utilization").unlink(missing_ok=True)


@pytest.fixture(scope="module")
def hub(slurm_cluster, fake_gpu, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("culling-hub")
    site = edit_site(cluster_site(slurm_cluster, workdir),
                     lambda s: s["services"]["idle_culler"].update(enabled=True, timeout_minutes=1, every_seconds=10))
    with HubProcess(workdir, site_file=site) as hub:
        hub.tokens = {name: hub.api_token(name) for name in ("ops", "alice", "bob")}
        yield hub


def server(hub, user) -> dict | None:
    return requests.get(f"{hub.url}/hub/api/users/{user}", timeout=10,
                        headers={"Authorization": f"token {hub.tokens['ops']}"}).json()["servers"].get("")


def test_an_idle_session_is_culled_and_one_with_a_busy_gpu_is_kept(hub, slurm_cluster):
    busy = Path(pwd.getpwnam("alice").pw_dir, ".fake-gpu-utilization")
    busy.write_text("97\n")  # alice's training loop keeps her GPU busy; bob's GPU stays at 0
    for user in ("alice", "bob"):
        resp = requests.post(f"{hub.url}/hub/api/users/{user}/server", timeout=60,
                             headers={"Authorization": f"token {hub.tokens[user]}"},
                             json={"user_options": {"profile": "gpu-1", "walltime_hours": 1}})
        assert resp.status_code in (201, 202), resp.text
    for user in ("alice", "bob"):
        wait_until(lambda: (server(hub, user) or {}).get("ready"), 180, f"{user}'s session ready", interval=0.5)
    ready = time.monotonic()
    wait_until(lambda: server(hub, "bob") is None, 180, "bob's idle session culled", interval=2)
    culled_after = time.monotonic() - ready
    assert culled_after >= 40, culled_after  # the timeout is 60 s of inactivity, not some other stop
    # alice's session must stay well past the moment it too would have been culled without her GPU
    kept_until = time.monotonic() + 30
    while time.monotonic() < kept_until:
        alice = server(hub, "alice")
        assert alice is not None and alice["ready"], "the session with a busy GPU was culled"
        time.sleep(2)
    requests.delete(f"{hub.url}/hub/api/users/alice/server", timeout=60,
                    headers={"Authorization": f"token {hub.tokens['alice']}"})
    wait_until(lambda: server(hub, "alice") is None, 60, "alice stopped")
    assert "idle-culler" in hub.log_path.read_text() and "DELETE /hub/api/users/bob/server" in \
        hub.log_path.read_text()
