#!/usr/bin/env python3
"""Slurm sessions, FactoryHub side by side with stock batchspawner + wrapspawner.

    sudo .venv/bin/python benchmarks/slurm_sessions.py [--runs 3] [--storm 20] [--window 30]

Needs root and the test cluster (it starts it: tests/cluster/slurm_cluster.py up).
Prints, for the floor (a bare jupyter-server started by sbatch until HTTP 200), stock
batchspawner and FactoryHub, all measured in this one run on the same cluster:
  - spawn latency request -> ready on an idle cluster (median of --runs),
  - a storm of --storm simultaneous spawns: time until all are ready, and the hub API's
    p50/p99 latency meanwhile,
  - slurmctld RPCs per minute (sdiag) with N running sessions, and the busiest RPC types.

Topology: in production the hub runs on a service node and sessions on compute nodes. With
two or more CPUs the benchmark models that split (``--shared-cpus`` turns it off): the hubs,
their proxies and this driver are pinned to the first CPU ("hub node"), the Slurm daemons
and therefore every job they start to the others ("cluster"). Both hubs get the same
treatment; the affinity of the daemons is restored at the end.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import json
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


def rpc_counts() -> dict[str, int]:
    """slurmctld RPCs by message type since the last ``sdiag --reset``."""
    out = slurm("sdiag")
    section = out.split("Remote Procedure Call statistics by message type", 1)[1].split("Remote Procedure", 1)[0]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^\s*(\w+)\s+\(\s*\d+\)\s+count:(\d+)", section, re.M)}


def daemon_tasks() -> list[int]:
    """Every thread of the test cluster's daemons (affinity is per thread)."""
    state = json.loads(Path("/var/lib/factoryhub-test-cluster/cluster.json").read_text())
    tasks = []
    for pid in state["pids"].values():
        task_dir = Path(f"/proc/{pid}/task")
        if task_dir.exists():
            tasks += [int(t.name) for t in task_dir.iterdir()]
    return tasks


@contextlib.contextmanager
def split_cpus(enabled: bool):
    """Pin this driver (and the hubs it starts) to CPU 0 and the cluster to the other CPUs."""
    cpus = sorted(os.sched_getaffinity(0))
    if not enabled or len(cpus) < 2:
        yield "shared: hubs, Slurm daemons and all jobs on the same CPUs"
        return
    hub_cpus, cluster_cpus = set(cpus[:1]), set(cpus[1:])
    for task in daemon_tasks():
        os.sched_setaffinity(task, cluster_cpus)
    os.sched_setaffinity(0, hub_cpus)
    try:
        yield f"split: hubs + proxies + this driver on CPU {cpus[0]}, Slurm and its jobs on CPUs {cpus[1:]}"
    finally:
        os.sched_setaffinity(0, set(cpus))
        for task in daemon_tasks():
            with contextlib.suppress(OSError):
                os.sched_setaffinity(task, set(cpus))


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

    def spawn(self, user: str, server: str) -> float:
        """POST the spawn, then follow its progress stream until ready, as the spawn page does."""
        started = time.monotonic()
        resp = self.api("POST", f"/users/{user}/servers/{server}", json={"user_options": self.options})
        assert resp.status_code in (201, 202), resp.text
        with requests.get(f"{self.hub.url}/hub/api/users/{user}/servers/{server}/progress", headers=self.headers,
                          stream=True, timeout=300) as events:
            for line in events.iter_lines(decode_unicode=True):
                if line.startswith("data:"):
                    event = json.loads(line[5:])
                    if event.get("ready"):
                        return time.monotonic() - started
                    if event.get("failed"):
                        raise RuntimeError(f"{user}/{server} failed: {event.get('message')}")
        raise RuntimeError(f"{user}/{server}: progress stream ended before the server was ready")

    def stop(self, user: str, server: str) -> None:
        self.api("DELETE", f"/users/{user}/servers/{server}")
        wait_until(lambda: server not in self.api("GET", f"/users/{user}").json()["servers"], 120, "stopped")

    def storm(self, n: int) -> tuple[float, list[float], float]:
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
        started, cpu_before = time.monotonic(), cpu_seconds(self.hub.proc.pid)
        with concurrent.futures.ThreadPoolExecutor(n) as pool:
            list(pool.map(lambda un: self.spawn(*un), names))
        elapsed, hub_cpu = time.monotonic() - started, cpu_seconds(self.hub.proc.pid) - cpu_before
        done.set()
        prober.join()
        return elapsed, latencies, hub_cpu


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def job_status(kinds: dict[str, float]) -> float:
    return sum(rate for kind, rate in kinds.items() if kind.startswith("REQUEST_JOB_INFO"))


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
    elapsed, latencies, hub_cpu = bench.storm(storm)
    result["storm"] = (elapsed, pct(latencies, 0.5), pct(latencies, 0.99), hub_cpu)
    result["rpc"] = {}
    names = [(USERS[i % 3], f"s{i}") for i in range(storm)]
    for keep in sorted({storm, max(1, storm // 2), 1}, reverse=True):
        for user, server in names[keep:]:
            bench.stop(user, server)
        names = names[:keep]
        # a stopped session's job may still be completing; its teardown RPCs are not steady state
        wait_until(lambda: len(slurm("squeue", "--all", "--noheader", "--format=%i").split()) == keep, 60,
                   f"{keep} jobs left")
        slurm("sdiag", "--reset")
        time.sleep(window)
        result["rpc"][keep] = {kind: count * 60 / window for kind, count in rpc_counts().items()}
    for user, server in names:
        bench.stop(user, server)
    return result


def register_projects(hub: HubProcess, token: str) -> None:
    """Every test-cluster account as a project with a large allocation (spawns place holds)."""
    api = f"{hub.url}/services/factoryhub-quota/api/v1"
    headers = {"Authorization": f"token {token}"}
    wait_until(lambda: requests.get(f"{api}/health", timeout=2).status_code == 200, 60, "quota service")
    for account, members in (("proj-climate", USERS), ("proj-genomics", ("carol",)), ("sme-visionai", ("alice",))):
        requests.post(f"{api}/projects", headers=headers, timeout=30,
                      json={"account": account, "title": account, "members": list(members)}).raise_for_status()
        requests.post(f"{api}/projects/{account}/allocations", headers=headers, timeout=30,
                      json={"gpu_hours": 10**6, "starts_on": "2000-01-01", "ends_on": "2100-12-31"}
                      ).raise_for_status()


def start_hubs(workdir: Path, slurm_conf: str, user_env: str):
    site = yaml.safe_load((REPO / "site.example.yaml").read_text())
    site["slurm"]["conf"] = slurm_conf
    site["slurm"]["default_environment"]["prefix"] = user_env
    site["sessions"]["named_servers_per_user"] = 10
    site["services"]["idle_culler"]["enabled"] = False
    # sessions are metered as in production (a hold per spawn); imports are benchmarked elsewhere
    site["services"]["quota"].update(import_every_seconds=0, unregistered_accounts="refuse")
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
    parser.add_argument("--shared-cpus", action="store_true", help="do not split hub and cluster CPUs")
    args = parser.parse_args()
    cluster("up")
    cluster("reset")
    slurm_conf = cluster("env").split("=", 1)[1].strip()
    os.environ["SLURM_CONF"] = slurm_conf
    user_env = Path(cluster("user-env").rsplit(" ", 1)[1].strip())

    results = {}
    with split_cpus(not args.shared_cpus) as topology, tempfile.TemporaryDirectory() as tmp:
        floors = [floor_latency(user_env) for _ in range(args.runs)]
        stock_hub, token, fh_hub = start_hubs(Path(tmp), slurm_conf, str(user_env))
        with stock_hub:
            results["stock"] = measure(Bench("stock", stock_hub, token, {"profile": "cpu"}), args.runs,
                                       args.storm, args.window)
        with fh_hub:
            token = fh_hub.api_token("ops")
            register_projects(fh_hub, token)
            results["factoryhub"] = measure(Bench("factoryhub", fh_hub, token, {"profile": "bench-cpu"}),
                                            args.runs, args.storm, args.window)
    floor = statistics.median(floors)
    print(f"\nCPUs: {topology}")
    print(f"\nspawn latency, request -> ready, median of {args.runs} (idle cluster)")
    print(f"  floor (sbatch + bare jupyter-server -> HTTP 200)  {floor:6.2f} s")
    for name, r in results.items():
        print(f"  {name:<48} {r['spawn']:6.2f} s   {r['spawn'] / floor:4.2f} x floor")
    print(f"\n{args.storm} simultaneous spawns: all ready after, hub API p50 / p99 meanwhile, hub process CPU")
    for name, r in results.items():
        elapsed, p50, p99, hub_cpu = r["storm"]
        print(f"  {name:<12} {elapsed:6.1f} s   {p50 * 1000:6.0f} ms / {p99 * 1000:6.0f} ms   {hub_cpu:5.1f} CPU s")
    print(f"\nslurmctld RPCs per minute (sdiag, {args.window:.0f} s windows): all / job status (REQUEST_JOB_INFO*)")
    print(f"  {'N running':>10} " + "".join(f"{name:>22}" for name in results))
    for n in sorted(results["stock"]["rpc"]):
        row = "".join(f"{sum(r['rpc'][n].values()):>12.0f} / {job_status(r['rpc'][n]):>6.0f}"
                      for r in results.values())
        print(f"  {n:>10} {row}")
    print("\nbusiest slurmctld RPC types per minute")
    for name, r in results.items():
        for n, kinds in sorted(r["rpc"].items()):
            top = sorted(kinds.items(), key=lambda kv: -kv[1])[:4]
            print(f"  {name:<12} N={n:<3} " + ", ".join(f"{kind} {rate:.0f}" for kind, rate in top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
