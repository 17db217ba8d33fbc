#!/usr/bin/env python3
"""Ten guests opening one dashboard at once, beside one guest alone.

    .venv/bin/python benchmarks/dashboard_guests.py [--guests 10]

Starts the embedded default hub (local sessions) with the dashboards service, publishes the
sensor-readings dashboard twice (two servers), and measures through HTTP what a guest's browser
does — the terms page, accepting them, the hub's guest login, the server's OAuth, Voila's page
(which returns once the guest's own kernel has run the notebook):

- baseline: one guest alone on the first dashboard;
- load: ``--guests`` guests at once on the second, its link limited to that many; then one more,
  whom the link refuses.

For both it prints the time to first render (p50 / max) and the hub API's latency (p50 / p99 /
max of GET /hub/api/users/researcher every 100 ms) meanwhile. Each viewer has a kernel of its
own (Voila's model): guests never see each other's inputs; the price is one Python process per
viewer, hence the site's max_viewers_per_dashboard.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.harness.dashboards import api, dashboards_hub, enter_as_guest, prepare_home, publish  # noqa: E402


class ApiProbe:
    """GET /hub/api/users/<user> every 100 ms in a thread; latencies in seconds."""

    def __init__(self, hub, headers: dict):
        self.url, self.headers = f"{hub.url}/hub/api/users/researcher", headers
        self.latencies: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            started = time.perf_counter()
            requests.get(self.url, headers=self.headers, timeout=30).raise_for_status()
            self.latencies.append(time.perf_counter() - started)
            self._stop.wait(0.1)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def timed_guest(link: str) -> tuple[int, float]:
    started = time.perf_counter()
    _, page = enter_as_guest(link)
    return page.status_code, time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def row(name: str, renders: list[float], probe: ApiProbe) -> str:
    api_ms = [x * 1000 for x in probe.latencies]
    return (f"{name:<28} {len(renders):>3} guests  render p50 {statistics.median(renders):6.2f} s  "
            f"max {max(renders):6.2f} s  | hub API p50 {statistics.median(api_ms):6.1f} ms  "
            f"p99 {percentile(api_ms, 0.99):6.1f} ms  max {max(api_ms):6.1f} ms  ({len(api_ms)} calls)")


def link_for(hub, owner: dict, name: str, max_guests: int) -> str:
    made = requests.post(api(hub, f"/dashboards/researcher/{name}/links"), headers=owner, timeout=30,
                         json={"max_guests": max_guests})
    made.raise_for_status()
    return made.json()["url"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--guests", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-dashboards-") as workdir, \
            dashboards_hub(Path(workdir), max_viewers_per_dashboard=args.guests) as hub:
        prepare_home(hub.state_dir / "homes" / "researcher")
        owner = {"Authorization": f"token {hub.api_token('researcher')}"}
        admin = {"Authorization": f"token {hub.api_token('admin')}"}
        publish(hub, owner, "alone")
        publish(hub, owner, "crowd")
        alone, crowd = link_for(hub, owner, "alone", 1), link_for(hub, owner, "crowd", args.guests)

        with ApiProbe(hub, admin) as baseline_probe:
            status, seconds = timed_guest(alone)
            assert status == 200, status
            time.sleep(1)  # a few idle API calls after the render, as in the load run
        with ApiProbe(hub, admin) as load_probe, concurrent.futures.ThreadPoolExecutor(args.guests) as pool:
            results = list(pool.map(lambda _: timed_guest(crowd), range(args.guests)))
            time.sleep(1)
        assert all(status == 200 for status, _ in results), results
        refused_status, _ = timed_guest(crowd)

        print(f"Dashboard guests on {hub.url} (embedded default, local sessions, one kernel per viewer)")
        print(row("baseline: one guest alone", [seconds], baseline_probe))
        print(row(f"load: {args.guests} guests at once", [s for _, s in results], load_probe))
        print(f"guest {args.guests + 1} on a link limited to {args.guests}: HTTP {refused_status} (refused)")


if __name__ == "__main__":
    main()
