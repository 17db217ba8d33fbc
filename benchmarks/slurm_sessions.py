#!/usr/bin/env python3
"""Slurm sessions, FactoryHub side by side with stock batchspawner + wrapspawner.

    sudo .venv/bin/python benchmarks/slurm_sessions.py [--runs 3] [--storm 20] [--window 30]

Needs root and the test cluster (it starts it: tests/cluster/slurm_cluster.py up).
Prints, for the floor (a bare jupyter-server started by sbatch until HTTP 200), stock
batchspawner and FactoryHub, all measured in this one run on the same cluster:
  - spawn latency request -> ready on an idle cluster (median of --runs),
  - a storm of --storm simultaneous spawns: time until all are ready, and the hub API's
    p50/p99 latency meanwhile,
  - slurmctld RPCs per minute (sdiag) and squeue calls per minute with N running sessions.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import os
import re
import secrets
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
from tests.harness.hub import HubProcess, free_port, wait_until  # noqa: E402

CLUSTER = [sys.executable, str(REPO / "tests" / "cluster" / "slurm_cluster.py")]
USERS = ("alice", "bob", "carol")


def cluster(command: str) -> str:
    return subprocess.run([*CLUSTER, command], check=True, capture_output=True, text=True).stdout


def slurm(*argv: str, user: str | None = None) -> str:
    prefix = ["sudo", "--preserve-env=SLURM_CONF", "-u", user] if user else []
    return subprocess.run([*prefix, *argv], check=True, capture_output=True, text=True).stdout


def rpc_counts() -> tuple[int, int]:
    """(all RPCs, job-status RPCs: REQUEST_JOB_INFO*) since the last ``sdiag --reset``."""
    out = slurm("sdiag")
    section = out.split("Remote Procedure Call statistics by message type", 1)[1].split("Remote Procedure", 1)[0]
    counts = {m.group(1): int(m.group(2)) for m in re.finditer(r"^\s*(\w+)\s+\(\s*\d+\)\s+count:(\d+)", section, re.M)}
    return sum(counts.values()), sum(v for k, v in counts.items() if k.startswith("REQUEST_JOB_INFO"))


def floor_latency(user_env: Path) -> float:
    """sbatch of a bare jupyter-server until it answers HTTP 200."""
    port = free_port()
    script = (f"#!/bin/bash\n#SBATCH --partition=cpu --cpus-per-task=1 --mem=1G --time=10 --chdir=/tmp "
              f"--output=/dev/null\nexec {user_env}/bin/jupyter-server --ServerApp.ip=127.0.0.1 "
              f"--ServerApp.port={port} --IdentityProvider.token= --ServerApp.open_browser=False\n")
    started = time.monotonic()
    job = subprocess.run(["sudo", "--preserve-env=SLURM_CONF", "-u", "alice", "sbatch", "--parsable"], input=script,
                         check=True, capture_output=True, text=True).stdout.strip()
    try:
        wait_until(lambda: requests.get(f"http://127.0.0.1:{port}/api/status", timeout=1).status_code == 200,
                   120, "bare jupyter-server", interval=0.05)
        return time.monotonic() - started
    finally:
        slurm("scancel", job)


class Bench:
    """One hub under test, driven through its REST API with an admin token."""

    def __init__(self, name: str, hub: HubProcess, token: str, options: dict):
        self.name, self.hub, self.options = name, hub, options
        self.headers = {"Authorization": f"token {token}"}
        for user in USERS:  # hub users exist only after a login or an admin creates them
            self.api("POST", f"/users/{user}")

    def api(self, method: str, path: str, **kw) -> requests.Response:
        return requests.request(method, f"{self.hub.url}/hub/api{path}", headers=self.headers, timeout=120, **kw)

    def ready(self, user: str, server: str) -> bool:
        return bool(self.api("GET", f"/users/{user}").json()["servers"].get(server, {}).get("ready"))

    def spawn(self, user: str, server: str) -> float:
        started = time.monotonic()
        resp = self.api("POST", f"/users/{user}/servers/{server}", json={"user_options": self.options})
        assert resp.status_code in (201, 202), resp.text
        wait_until(lambda: self.ready(user, server), 300, f"{user}/{server} ready", interval=0.05)
        return time.monotonic() - started

    def stop(self, user: str, server: str) -> None:
        self.api("DELETE", f"/users/{user}/servers/{server}")
        wait_until(lambda: server not in self.api("GET", f"/users/{user}").json()["servers"], 120, "stopped")

    def storm(self, n: int) -> tuple[float, list[float]]:
        names = [(USERS[i % 3], f"s{i}") for i in range(n)]
        latencies: list[float] = []
        done = threading.Event()

        def probe():
            while not done.is_set():
                t = time.monotonic()
                self.api("GET", "/users/alice")
                latencies.append(time.monotonic() - t)
                time.sleep(0.1)

        prober = threading.Thread(target=probe)
        prober.start()
        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(n) as pool:
            list(pool.map(lambda un: self.spawn(*un), names))
        elapsed = time.monotonic() - started
        done.set()
        prober.join()
        return elapsed, latencies


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def measure(bench: Bench, runs: int, storm: int, window: float) -> dict:
    result = {}
    spawns = []
    for _ in range(runs):
        spawns.append(bench.spawn("alice", "single"))
        bench.stop("alice", "single")
    result["spawn"] = statistics.median(spawns)
    elapsed, latencies = bench.storm(storm)
    result["storm"] = (elapsed, pct(latencies, 0.5), pct(latencies, 0.99))
    result["rpc"] = {}
    names = [(USERS[i % 3], f"s{i}") for i in range(storm)]
    for keep in sorted({storm, max(1, storm // 2), 1}, reverse=True):
        for user, server in names[keep:]:
            bench.stop(user, server)
        names = names[:keep]
        slurm("sdiag", "--reset")
        time.sleep(window)
        total, job_info = rpc_counts()
        result["rpc"][keep] = (total * 60 / window, job_info * 60 / window)
    for user, server in names:
        bench.stop(user, server)
    return result


def start_hubs(workdir: Path, slurm_conf: str, user_env: str):
    site = yaml.safe_load((REPO / "site.example.yaml").read_text())
    site["slurm"]["conf"] = slurm_conf
    site["slurm"]["default_environment"]["prefix"] = user_env
    site["sessions"]["named_servers_per_user"] = 10
    site["services"]["idle_culler"]["enabled"] = False
    site["profiles"].append({"id": "bench-cpu", "title": "bench", "partition": "cpu", "cpus": 1, "memory_gb": 1,
                             "max_walltime_hours": 1, "default_walltime_hours": 1})
    (workdir / "fh").mkdir()
    (workdir / "fh" / "site.yaml").write_text(yaml.safe_dump(site))
    token = secrets.token_hex(16)
    stock = HubProcess(workdir / "stock", config_file=REPO / "benchmarks" / "stock_batchspawner_config.py",
                       extra_env={"BENCH_TOKEN": token, "SLURM_CONF": slurm_conf})
    factoryhub = HubProcess(workdir / "fh", site_file=workdir / "fh" / "site.yaml")
    return stock, token, factoryhub


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--storm", type=int, default=20)
    parser.add_argument("--window", type=float, default=30.0, help="seconds per sdiag window")
    args = parser.parse_args()
    cluster("up")
    cluster("reset")
    slurm_conf = cluster("env").split("=", 1)[1].strip()
    os.environ["SLURM_CONF"] = slurm_conf
    user_env = Path(cluster("user-env").rsplit(" ", 1)[1].strip())

    floors = [floor_latency(user_env) for _ in range(args.runs)]
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        stock_hub, token, fh_hub = start_hubs(Path(tmp), slurm_conf, str(user_env))
        with stock_hub:
            results["stock"] = measure(Bench("stock", stock_hub, token, {"profile": "cpu"}), args.runs,
                                       args.storm, args.window)
        with fh_hub:
            results["factoryhub"] = measure(Bench("factoryhub", fh_hub, fh_hub.api_token("ops"),
                                                  {"profile": "bench-cpu"}), args.runs, args.storm, args.window)
    floor = statistics.median(floors)
    print(f"\nspawn latency, request -> ready, median of {args.runs} (idle cluster)")
    print(f"  floor (sbatch + bare jupyter-server -> HTTP 200)  {floor:6.2f} s")
    for name, r in results.items():
        print(f"  {name:<48} {r['spawn']:6.2f} s   {r['spawn'] / floor:4.2f} x floor")
    print(f"\n{args.storm} simultaneous spawns: all ready after, hub API p50 / p99 meanwhile")
    for name, r in results.items():
        elapsed, p50, p99 = r["storm"]
        print(f"  {name:<12} {elapsed:6.1f} s   {p50 * 1000:6.0f} ms / {p99 * 1000:6.0f} ms")
    print(f"\nslurmctld RPCs per minute (sdiag, {args.window:.0f} s windows): all / job status (REQUEST_JOB_INFO*)")
    print(f"  {'N running':>10} " + "".join(f"{name:>22}" for name in results))
    for n in sorted(results["stock"]["rpc"]):
        row = "".join(f"{r['rpc'][n][0]:>12.0f} / {r['rpc'][n][1]:>6.0f}" for r in results.values())
        print(f"  {n:>10} {row}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
