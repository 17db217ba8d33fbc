#!/usr/bin/env python3
"""Operating figures at AI-Factory scale (issue 18): the metrics endpoints and the KPI report.

    .venv/bin/python benchmarks/operations.py [--users 10000] [--records 1000000] [--scrapes 300]

Starts the embedded default hub (quota, catalogue, dashboards and announcements services) twice:
empty (the baseline), then with --users hub users and a ledger of --records job records spread
over a year (2,000 projects, 10 % of the jobs with a session hold). Through the proxy, as
Prometheus does, with the metrics identity's token, it prints each metrics endpoint's latency
(p50 / p99 / max over --scrapes scrapes; target p99 < 50 ms) side by side for both, then the KPI
report's latency (JSON API, as the admin's page asks it) for a month and for a year (target < 2 s).
"""
from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import tempfile
import time
from pathlib import Path

import requests
from sqlalchemy import insert, select

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from benchmarks.quota_ledger import NOW, fill, pct  # noqa: E402
from factoryhub.quota.db import Database  # noqa: E402
from factoryhub.quota.models import Hold, HoldState, Project, UsageRecord  # noqa: E402
from tests.harness.hub import HubProcess, wait_until  # noqa: E402

ENDPOINTS = ("/hub/metrics", "/services/factoryhub-quota/metrics", "/services/factoryhub-catalogue/metrics",
             "/services/factoryhub-dashboards/metrics", "/services/factoryhub-announcements/metrics")
KPI = "/services/factoryhub-quota/api/v1/reports/kpi"


def seed_hub_users(hub: HubProcess, users: int) -> None:
    """``users`` hub users, written into the stopped hub's database as its API would store them."""
    from jupyterhub import orm

    db = orm.new_session_factory(f"sqlite:///{hub.state_dir / 'jupyterhub.sqlite'}")()
    try:
        known = {name for (name,) in db.query(orm.User.name)}
        db.execute(insert(orm.User), [{"name": f"user{i:05d}", "admin": False, "created": NOW.replace(tzinfo=None)}
                                      for i in range(users) if f"user{i:05d}" not in known])
        db.commit()
    finally:
        db.close()


def seed_ledger(hub: HubProcess, users: int, records: int, rng: random.Random) -> None:
    """A year of jobs in the quota ledger, and a hold (a hub session's request) for every tenth job."""
    db = Database(f"sqlite:///{hub.state_dir / 'quota.sqlite'}")
    started = time.perf_counter()
    fill(db, users, 2000, records, rng, days=365)
    with db.write() as session:
        ids = dict(session.execute(select(Project.account, Project.id)).all())
        jobs = session.execute(select(UsageRecord.job_id, UsageRecord.account, UsageRecord.username,
                                      UsageRecord.start_at).where(UsageRecord.id % 10 == 0)).all()
        holds = [{"project_id": ids[account], "username": user, "server_name": "", "job_id": job_id,
                  "gpu_seconds": 3600, "state": HoldState.settled,
                  "created_at": start - dt.timedelta(seconds=rng.randrange(5, 1800)),
                  "expires_at": start + dt.timedelta(hours=2), "closed_at": start + dt.timedelta(hours=1)}
                 for job_id, account, user, start in jobs]
        for i in range(0, len(holds), 20_000):
            session.execute(insert(Hold), holds[i:i + 20_000])
    db.engine.dispose()
    print(f"  ledger filled in {time.perf_counter() - started:.0f} s ({records} jobs, {len(holds)} holds)",
          flush=True)


def scrape_latencies(hub: HubProcess, scrapes: int) -> dict[str, list[float]]:
    token = (hub.state_dir / "metrics-token").read_text().strip()
    http, timings = requests.Session(), {}
    http.headers["Authorization"] = f"token {token}"
    for path in ENDPOINTS:
        resp = http.get(f"{hub.url}{path}", timeout=30)  # the first: token check, service cookie
        if resp.status_code == 404:
            continue  # a service this checkout does not have
        assert resp.status_code == 200, (path, resp.status_code, resp.text[:200])
        timings[path] = []
        for _ in range(scrapes):
            began = time.perf_counter()
            resp = http.get(f"{hub.url}{path}", timeout=30)
            timings[path].append(time.perf_counter() - began)
            assert resp.status_code == 200 and b"# TYPE" in resp.content, (path, resp.status_code)
    return timings


def kpi_latencies(hub: HubProcess, token: str, runs: int) -> dict[str, list[float]]:
    http, timings = requests.Session(), {}
    http.headers["Authorization"] = f"token {token}"
    today = NOW.date()
    periods = {"KPI report, one month": (today.replace(day=1), today),
               "KPI report, one year": (today - dt.timedelta(days=364), today)}
    for label, (since, until) in periods.items():
        timings[label] = []
        for _ in range(runs):
            began = time.perf_counter()
            resp = http.get(f"{hub.url}{KPI}?since={since}&until={until}", timeout=120)
            timings[label].append(time.perf_counter() - began)
            assert resp.status_code == 200, (resp.status_code, resp.text[:300])
    return timings


def measure(hub: HubProcess, scrapes: int, kpi_runs: int) -> dict[str, list[float]]:
    wait_until(lambda: requests.get(f"{hub.url}/services/factoryhub-quota/api/v1/health", timeout=2)
               .status_code == 200, 60, "quota service")
    figures = scrape_latencies(hub, scrapes)
    return {**figures, **(kpi_latencies(hub, hub.api_token("admin"), kpi_runs) if kpi_runs else {})}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--scrapes", type=int, default=300)
    parser.add_argument("--kpi-runs", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(18)
    with tempfile.TemporaryDirectory(prefix="fh-operations-") as tmp:
        hub = HubProcess(Path(tmp))
        print("empty hub (baseline)…", flush=True)
        with hub:
            empty = measure(hub, args.scrapes, args.kpi_runs)
        print(f"seeding {args.users} hub users and {args.records} job records…", flush=True)
        seed_hub_users(hub, args.users)
        seed_ledger(hub, args.users, args.records, rng)
        with hub:
            full = measure(hub, args.scrapes, args.kpi_runs)
    print(f"\nmetrics scrapes through the proxy ({args.scrapes} each): p50 / p99 / max ms (target p99 < 50 ms)")
    print(f"  {'endpoint':<45} {'empty hub':>24}   {f'{args.users} users, {args.records} jobs':>24}")
    for path in (k for k in empty if k.startswith("/")):
        cells = ["{:6.1f} / {:6.1f} / {:6.1f}".format(*(1000 * v for v in (pct(t, 0.5), pct(t, 0.99), max(t))))
                 for t in (empty[path], full[path])]
        print(f"  {path:<45} {cells[0]:>24}   {cells[1]:>24}")
    print(f"\nKPI report (JSON API, {args.kpi_runs} runs): median / max s (target: a year < 2 s)")
    for label in (k for k in full if k.startswith("KPI")):
        cells = [f"{pct(t, 0.5):5.2f} / {max(t):5.2f}" for t in (empty[label], full[label])]
        print(f"  {label:<45} {cells[0]:>24}   {cells[1]:>24}")


if __name__ == "__main__":
    main()
