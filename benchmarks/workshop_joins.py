#!/usr/bin/env python3
"""Twenty workshop participants joining and spawning at once, beside twenty plain spawns.

    sudo .venv/bin/python benchmarks/workshop_joins.py [--participants 20]

Needs root and the test cluster (it restarts it with a node of 64 CPUs and stops it at the
end). Baseline: the same twenty Unix users, associated with an ordinary project, spawn a
one-CPU session each through the hub's API at once. Then a trainer makes a workshop with
twenty seats of the same profile, and twenty guests each take a pool seat and have their
session started at once. For both it prints seconds until every session is ready, and the
hub API's latency (p50 / p99 / max of GET /hub/api/users/ops every 100 ms) meanwhile.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.harness.course_repo import CourseRepo  # noqa: E402
from tests.harness.hub import HubProcess, register_project, wait_until  # noqa: E402

CLUSTER = [sys.executable, str(REPO / "tests" / "cluster" / "slurm_cluster.py")]
SERVICE = "/services/factoryhub-workshops/api/v1"


def cluster(command: str) -> str:
    env = {**os.environ, "FACTORYHUB_TEST_NODE_CPUS": "64"}
    return subprocess.run([*CLUSTER, command], check=True, capture_output=True, text=True, env=env).stdout


def site_file(workdir: Path, slurm_conf: str, user_env: str, pool: list[str]) -> Path:
    site = yaml.safe_load((REPO / "site.example.yaml").read_text())
    site["slurm"].update(conf=slurm_conf)
    site["slurm"]["default_environment"]["prefix"] = user_env
    site["auth"]["accounts"].append({"name": "tina"})
    site["services"]["quota"].update(import_every_seconds=0, unregistered_accounts="allow")
    site["services"]["idle_culler"]["enabled"] = False
    site["profiles"].append({"id": "bench-cpu", "title": "bench", "partition": "cpu", "cpus": 1, "memory_gb": 1,
                             "max_walltime_hours": 1, "default_walltime_hours": 1})
    site["services"]["workshops"] = {"trainers": ["tina"], "pool_accounts": pool, "profiles": ["bench-cpu"]}
    path = workdir / "site.yaml"
    path.write_text(yaml.safe_dump(site))
    return path


class ApiProbe(threading.Thread):
    """GET /hub/api/users/ops every 100 ms until stopped; keeps each latency in ms."""

    def __init__(self, hub: HubProcess, token: str):
        super().__init__(daemon=True)
        self.url, self.headers = f"{hub.url}/hub/api/users/ops", {"Authorization": f"token {token}"}
        self.latencies: list[float] = []
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            started = time.perf_counter()
            requests.get(self.url, headers=self.headers, timeout=30)
            self.latencies.append((time.perf_counter() - started) * 1000)
            self.done.wait(0.1)

    def figures(self) -> tuple[float, float, float]:
        ordered = sorted(self.latencies)
        return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], ordered[-1]


def ready(hub: HubProcess, admin: dict, user: str) -> bool:
    model = requests.get(f"{hub.url}/hub/api/users/{user}", headers=admin, timeout=30).json()
    return bool((model.get("servers") or {}).get("", {}).get("ready"))


def stop_all(hub: HubProcess, admin: dict, users: list[str]) -> None:
    for user in users:
        requests.delete(f"{hub.url}/hub/api/users/{user}/server", headers=admin, timeout=120)
    wait_until(lambda: not any(requests.get(f"{hub.url}/hub/api/users/{u}", headers=admin, timeout=30).json()
                               .get("servers") for u in users), 300, "every session stopped", interval=1)


def measured(hub: HubProcess, token: str, work) -> tuple[float, tuple]:
    probe = ApiProbe(hub, token)
    probe.start()
    started = time.monotonic()
    work()
    elapsed = time.monotonic() - started
    probe.done.set()
    probe.join()
    return elapsed, probe.figures()


def plain_spawns(hub: HubProcess, admin: dict, users: list[str]) -> None:
    def one(user):
        resp = requests.post(f"{hub.url}/hub/api/users/{user}/server", headers=admin, timeout=300,
                             json={"user_options": {"profile": "bench-cpu", "account": "proj-climate"}})
        assert resp.status_code in (201, 202), resp.text
        wait_until(lambda: ready(hub, admin, user), 600, f"{user} ready", interval=0.5)

    with concurrent.futures.ThreadPoolExecutor(len(users)) as pool:
        list(pool.map(one, users))


def workshop_joins(hub: HubProcess, admin: dict, trainer: dict, codes: list[str], wid: str) -> list[str]:
    def one(code):
        joined = requests.post(f"{hub.url}{SERVICE}/pool-joins", json={"code": code}, timeout=300)
        assert joined.status_code == 201, joined.text
        user = joined.json()["username"]
        started = requests.post(f"{hub.url}{SERVICE}/workshops/{wid}/participants/{user}/session", headers=trainer,
                                timeout=300)
        assert started.status_code == 202, started.text
        wait_until(lambda: ready(hub, admin, user), 600, f"{user} ready", interval=0.5)
        return user

    with concurrent.futures.ThreadPoolExecutor(len(codes)) as pool:
        return list(pool.map(one, codes))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--participants", type=int, default=20)
    args = parser.parse_args()
    pool_accounts = [f"train{n:02d}" for n in range(1, args.participants + 1)]
    cluster("down")
    cluster("up")
    cluster("reset")
    slurm_conf = cluster("env").split("=", 1)[1].strip()
    os.environ["SLURM_CONF"] = slurm_conf
    user_env = cluster("user-env").rsplit(" ", 1)[1].strip()
    cluster("hub-env")
    results = {}
    tmp = tempfile.mkdtemp(prefix="bench-workshops-")
    course = CourseRepo(Path(tmp) / "course")
    try:
        with HubProcess(Path(tmp), site_file=site_file(Path(tmp), slurm_conf, user_env, pool_accounts)) as hub:
            ops, tina = hub.api_token("ops"), hub.api_token("tina")
            admin, trainer = {"Authorization": f"token {ops}"}, {"Authorization": f"token {tina}"}
            register_project(hub, ops, ["tina"], 100, account="proj-training")
            for user in pool_accounts:  # the baseline's users: an ordinary project, hub users made by an admin
                subprocess.run(["sacctmgr", "--immediate", "add", "user", user, "account=proj-climate"],
                               check=True, capture_output=True)
                requests.post(f"{hub.url}/hub/api/users/{user}", headers=admin, timeout=30)
            results["20 plain spawns"] = measured(hub, ops, lambda: plain_spawns(hub, admin, pool_accounts))
            stop_all(hub, admin, pool_accounts)
            for user in pool_accounts:
                subprocess.run(["sacctmgr", "--immediate", "delete", "user", user], capture_output=True)
                requests.delete(f"{hub.url}/hub/api/users/{user}", headers=admin, timeout=30)
            now, wid = dt.datetime.now(dt.UTC), f"bench-joins-{secrets.token_hex(3)}"
            made = requests.post(f"{hub.url}{SERVICE}/workshops", headers=trainer, timeout=120, json={
                "id": wid, "title": "Benchmark", "starts_at": now.isoformat(),
                "ends_at": (now + dt.timedelta(hours=2)).isoformat(), "seats": args.participants,
                "profile": "bench-cpu", "budget_gpu_hours": 1, "trainer_account": "proj-training",
                "course_repo": course.url})
            assert made.status_code == 201, made.text
            codes = [c["code"] for c in made.json()["codes"]]
            joined: list[str] = []
            results["20 joins + spawns"] = measured(
                hub, ops, lambda: joined.extend(workshop_joins(hub, admin, trainer, codes, wid)))
            requests.post(f"{hub.url}{SERVICE}/workshops/{wid}/end", headers=trainer, timeout=600)
        shutil.rmtree(tmp)
    except Exception:
        print(f"failed; the hub's log is kept: {tmp}/hub.log", file=sys.stderr)
        raise
    finally:
        course.close()
        subprocess.run([*CLUSTER, "reset"], capture_output=True)
        cluster("down")
    print(f"\n{args.participants} sessions at once (one CPU each), seconds until all ready; hub API latency meanwhile")
    print(f"  {'run':<20} {'all ready (s)':>14} {'API p50 (ms)':>13} {'API p99 (ms)':>13} {'API max (ms)':>13}")
    for name, (elapsed, (p50, p99, most)) in results.items():
        print(f"  {name:<20} {elapsed:>14.1f} {p50:>13.1f} {p99:>13.1f} {most:>13.1f}")
    print(f"  load average at the end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
