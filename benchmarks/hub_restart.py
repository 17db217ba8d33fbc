#!/usr/bin/env python3
"""Hub restart after a crash of the hub process alone, with 3 and then 50 running sessions.

    sudo .venv/bin/python benchmarks/hub_restart.py [--sessions 50]

Needs root and the test cluster (it restarts it with a node of 64 CPUs, so 50 one-CPU
sessions run at once, and stops it at the end). For each size it SIGKILLs the hub process
alone (proxy and services keep running, as after an OOM kill), starts a new hub, and prints
side by side: seconds until the hub API answers, seconds until every running session
answers through the proxy again, and whether exactly one copy of each managed service runs.
Targets (issue 14): API within 5 s with 3 sessions; API up and all sessions routed within
10 s with 50.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.harness.hub import HubProcess, wait_until  # noqa: E402

CLUSTER = [sys.executable, str(REPO / "tests" / "cluster" / "slurm_cluster.py")]
USERS = ("alice", "bob", "carol")
PER_USER = 17  # named servers per user (the site allows at most 20)


def cluster(command: str) -> str:
    env = {**os.environ, "FACTORYHUB_TEST_NODE_CPUS": "64"}
    return subprocess.run([*CLUSTER, command], check=True, capture_output=True, text=True, env=env).stdout


def site_file(workdir: Path, slurm_conf: str, user_env: str) -> Path:
    site = yaml.safe_load((REPO / "site.example.yaml").read_text())
    site["slurm"]["conf"] = slurm_conf
    site["slurm"]["default_environment"]["prefix"] = user_env
    site["sessions"]["named_servers_per_user"] = PER_USER + 1
    site["services"]["quota"].update(import_every_seconds=0, unregistered_accounts="allow")
    site["profiles"].append({"id": "bench-cpu", "title": "bench", "partition": "cpu", "cpus": 1, "memory_gb": 1,
                             "max_walltime_hours": 1, "default_walltime_hours": 1})
    path = workdir / "site.yaml"
    path.write_text(yaml.safe_dump(site))
    return path


def session_names(n: int) -> list[tuple[str, str]]:
    return [(USERS[i % len(USERS)], f"s{i // len(USERS)}") for i in range(n)]


class Sessions:
    """Spawns and probes named servers through one hub's API."""

    def __init__(self, hub: HubProcess, tokens: dict[str, str]):
        self.hub, self.tokens = hub, tokens

    def headers(self, user: str) -> dict[str, str]:
        return {"Authorization": f"token {self.tokens[user]}"}

    def spawn(self, user: str, name: str) -> None:
        url = f"{self.hub.url}/hub/api/users/{user}/servers/{name}"
        resp = requests.post(url, headers=self.headers(user), json={"user_options": {"profile": "bench-cpu"}},
                             timeout=300)
        assert resp.status_code in (201, 202), resp.text
        wait_until(lambda: requests.get(f"{self.hub.url}/hub/api/users/{user}", headers=self.headers(user),
                                        timeout=30).json()["servers"].get(name, {}).get("ready"),
                   600, f"{user}/{name} ready", interval=0.5)

    def answers(self, user: str, name: str) -> bool:
        try:
            return requests.get(f"{self.hub.url}/user/{user}/{name}/api/status", headers=self.headers(user),
                                timeout=5).status_code == 200
        except requests.RequestException:
            return False


def restart(hub: HubProcess, tokens: dict[str, str], running: list[tuple[str, str]]) -> tuple[HubProcess, dict]:
    """Kill the hub alone, start a new one; (new hub, figures)."""
    before = hub.managed_services()
    hub.kill_alone()
    new = HubProcess(hub.workdir, site_file=hub.site_file, port=hub.port, hub_port=hub.hub_port,
                     proxy_api_port=hub.proxy_api_port)
    started = time.monotonic()
    new.launch()
    wait_until(lambda: requests.get(f"{new.url}/hub/api/users/ops", headers={"Authorization": f"token "
                                    f"{tokens['ops']}"}, timeout=2).status_code == 200, 120, "hub API")
    api = time.monotonic() - started
    sessions = Sessions(new, tokens)
    pending = set(running)
    while pending:
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            answered = dict(zip(pending, pool.map(lambda s: sessions.answers(*s), pending)))
        pending = {s for s, ok in answered.items() if not ok}
        assert time.monotonic() - started < 300, f"{len(pending)} sessions never answered again"
    routed = time.monotonic() - started
    wait_until(lambda: all(len(p) == 1 for p in new.managed_services().values())
               and set(new.managed_services()) == set(before), 60, "one copy of each service")
    return new, {"api": api, "routed": routed, "one_copy": time.monotonic() - started}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=50)
    args = parser.parse_args()
    cluster("down")
    cluster("up")
    cluster("reset")
    slurm_conf = cluster("env").split("=", 1)[1].strip()
    os.environ["SLURM_CONF"] = slurm_conf
    user_env = cluster("user-env").rsplit(" ", 1)[1].strip()
    results = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            hub = HubProcess(Path(tmp), site_file=site_file(Path(tmp), slurm_conf, user_env)).start()
            try:
                tokens = {u: hub.api_token(u) for u in ("ops", *USERS)}
                names = session_names(args.sessions)
                for size in (3, args.sessions):
                    spawner = Sessions(hub, tokens)
                    todo = [s for s in names[:size] if not spawner.answers(*s)]
                    with concurrent.futures.ThreadPoolExecutor(8) as pool:
                        list(pool.map(lambda s: spawner.spawn(*s), todo))
                    hub, results[size] = restart(hub, tokens, names[:size])
            finally:
                hub.stop()
    finally:
        subprocess.run([*CLUSTER, "reset"], capture_output=True)
        cluster("down")
    print("\nhub killed alone, restarted: seconds after the new hub process started")
    print(f"  {'running sessions':>16} {'API answers':>12} {'all routed':>11} {'one copy/service':>17}")
    for size, r in results.items():
        print(f"  {size:>16} {r['api']:>12.1f} {r['routed']:>11.1f} {r['one_copy']:>17.1f}")
    print("  targets: API < 5 s with 3 sessions; API and all sessions routed < 10 s with 50")
    return 0


if __name__ == "__main__":
    sys.exit(main())
