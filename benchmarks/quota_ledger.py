#!/usr/bin/env python3
"""The quota ledger at AI-Factory scale, on SQLite and on PostgreSQL, side by side.

    sudo .venv/bin/python benchmarks/quota_ledger.py [--users 10000] [--projects 2000]
        [--records 1000000] [--jobs 100000] [--requests 300]

Prints, per database:
  - the API's latency (p50 / p99 over --requests calls, through HTTP to the real tornado
    application) for a user's balances (GET /projects) and for the admin project list
    (GET /projects?all=1, a page of 50), and the same summaries computed project by project
    (the baseline: one balance query set per project, as a naive ledger would);
  - the accounting import of --jobs sacct jobs: first import, the next incremental run
    (what a timer does), and a full re-import of the same period (changes nothing), beside
    a row-by-row ORM import as the baseline.

Authentication is the hub's and is cached by HubAuth; here a header names the caller so
that only the service's own work is timed. PostgreSQL needs root (it starts Debian's server
as the postgres user, tests/harness/postgres.py).
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
from sqlalchemy import delete, insert, select
from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from factoryhub.heap import settle_heap  # noqa: E402
from factoryhub.quota import api  # noqa: E402
from factoryhub.quota.accounting import SacctDocument, decode_sacct, parse_sacct  # noqa: E402
from factoryhub.quota.balances import project_balance  # noqa: E402
from factoryhub.quota.db import Database  # noqa: E402
from factoryhub.quota.importer import UsageImporter, refresh_days  # noqa: E402
from factoryhub.quota.models import Allocation, ImportState, Member, Project, Sector, Track, UsageRecord  # noqa: E402
from factoryhub.quota.service import QuotaService  # noqa: E402
from tests.harness.hub import free_port  # noqa: E402

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
TEMPLATE = json.loads((REPO / "tests" / "fixtures" / "slurm" / "sacct-jobs.json").read_text())["jobs"][0]


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


# --- data -------------------------------------------------------------------------------

def fill(db: Database, users: int, projects: int, records: int, rng: random.Random, days: int = 90) -> None:
    """``records`` jobs of ``users`` users in ``projects`` projects, started over the last ``days`` days."""
    accounts = [f"proj-{i:05d}" for i in range(projects)]
    with db.write() as session:
        session.execute(insert(Project), [
            {"id": i + 1, "account": a, "title": f"Project {i}", "track": Track.scaling, "sector": Sector.research,
             "contact": "", "created_at": NOW, "updated_at": NOW} for i, a in enumerate(accounts)])
        session.execute(insert(Allocation), [
            {"project_id": i + 1, "gpu_seconds": 5000 * 3600, "cpu_seconds": 0, "notes": "",
             "starts_on": (NOW - dt.timedelta(days=120)).date(), "ends_on": (NOW + dt.timedelta(days=245)).date(),
             "created_at": NOW} for i in range(projects)])
        members = {(u % projects + 1, f"user{u:05d}") for u in range(users)}
        members |= {(rng.randrange(projects) + 1, f"user{u:05d}") for u in range(users)}
        session.execute(insert(Member), [{"project_id": p, "username": u} for p, u in members])
    batch = []
    for i in range(records):
        start = NOW - dt.timedelta(seconds=rng.randrange(days * 86400))
        elapsed, gpus = rng.randrange(60, 8 * 3600), rng.choice((0, 1, 1, 2, 4, 8))
        running = i % 5000 == 0
        batch.append({"cluster": "bench", "job_id": str(10_000_000 + i), "account": accounts[i % projects],
                      "username": f"user{rng.randrange(users):05d}", "partition": "gpu",
                      "state": "RUNNING" if running else "COMPLETED", "start_at": start,
                      "end_at": None if running else start + dt.timedelta(seconds=elapsed), "gpus": gpus, "cpus": 8,
                      "elapsed_seconds": elapsed, "gpu_seconds": gpus * elapsed, "cpu_seconds": 8 * elapsed})
        if len(batch) == 20_000:
            with db.write() as session:
                session.execute(insert(UsageRecord), batch)
            batch = []
    if batch:
        with db.write() as session:
            session.execute(insert(UsageRecord), batch)
    with db.write() as session:  # the daily rollup, as imports keep it
        first, last = (NOW - dt.timedelta(days=days + 1)).date(), NOW.date()
        refresh_days(session, {(a, d) for a in accounts for d in (first, last)})


# --- API latency ----------------------------------------------------------------------------

class BenchCaller:
    """Stands in for HubOAuth: the caller is named by a header (auth is cached by the hub)."""

    @staticmethod
    def get_current_user(handler):
        name = handler.request.headers.get("X-Bench-User", "")
        scopes = ["custom:quota:read"] if name == "ops" else []
        return {"name": name, "kind": "user", "scopes": scopes}


def serve(db: Database) -> tuple[str, IOLoop]:
    api.ApiHandler.get_current_user = BenchCaller.get_current_user
    port, started, box = free_port(), threading.Event(), {}

    def run():
        asyncio.set_event_loop(asyncio.new_event_loop())
        service = QuotaService(import_every=0)
        app = service.make_app(db, "/services/factoryhub-quota/")
        settle_heap()  # as QuotaService.serve does
        HTTPServer(app).listen(port, "127.0.0.1")
        box["loop"] = IOLoop.current()
        started.set()
        box["loop"].start()

    threading.Thread(target=run, daemon=True).start()
    started.wait(10)
    return f"http://127.0.0.1:{port}/services/factoryhub-quota/api/v1", box["loop"]


def latencies(url: str, requests_: int, users: int, projects: int, rng: random.Random) -> dict[str, list[float]]:
    http = requests.Session()
    timings: dict[str, list[float]] = {"user balances": [], "admin list (50)": []}
    for _ in range(requests_):
        t = time.perf_counter()
        resp = http.get(f"{url}/projects", headers={"X-Bench-User": f"user{rng.randrange(users):05d}"}, timeout=30)
        timings["user balances"].append(time.perf_counter() - t)
        assert resp.status_code == 200 and resp.json()["projects"], resp.text[:200]
        t = time.perf_counter()
        resp = http.get(f"{url}/projects?all=1&limit=50&offset={rng.randrange(0, projects - 50)}",
                        headers={"X-Bench-User": "ops"}, timeout=30)
        timings["admin list (50)"].append(time.perf_counter() - t)
        assert resp.status_code == 200 and len(resp.json()["projects"]) == 50, resp.text[:200]
    return timings


def per_project_baseline(db: Database, requests_: int, projects: int, rng: random.Random) -> list[float]:
    """The admin page of 50 computed one project at a time (the hold path's queries)."""
    timings = []
    for _ in range(requests_ // 3 or 1):
        offset = rng.randrange(0, projects - 50)
        t = time.perf_counter()
        with db.read() as session:
            page = list(session.scalars(select(Project).order_by(Project.account).offset(offset).limit(50)))
            [project_balance(session, p, NOW) for p in page]
        timings.append(time.perf_counter() - t)
    return timings


# --- import -----------------------------------------------------------------------------

def sacct_jobs(count: int, accounts: int, rng: random.Random) -> list[dict]:
    jobs = []
    for i in range(count):
        start = int((NOW - dt.timedelta(seconds=rng.randrange(20 * 86400, 30 * 86400))).timestamp())
        job = json.loads(json.dumps(TEMPLATE))
        job.update(job_id=50_000_000 + i, account=f"proj-{i % accounts:05d}", user=f"user{i % 997:05d}",
                   cluster="bench")
        job["time"] = {**job["time"], "start": start, "end": start + rng.randrange(60, 8 * 3600)}
        job["tres"]["allocated"] = [{"type": "cpu", "name": None, "id": 1, "count": 8},
                                    {"type": "gres", "name": "gpu", "id": 1001, "count": rng.choice((1, 2, 4))}]
        jobs.append(job)
    return sorted(jobs, key=lambda j: j["time"]["start"])


class ReplayedSacct:
    """Answers windows from a prepared job list as sacct would: its JSON text, parsed the way
    SacctSource decodes it. Producing the text is sacct's work, not the importer's:
    that time is kept in ``simulated`` and taken out of the figures."""

    def __init__(self, records: list[dict]):
        self.records, self.simulated = records, 0.0

    async def window(self, start, end):
        began = time.perf_counter()
        selected = [j for j in self.records
                    if j["time"]["start"] < end.timestamp() and j["time"]["end"] >= start.timestamp()]
        text = json.dumps({"jobs": selected, "errors": []})
        self.simulated += time.perf_counter() - began
        return decode_sacct(text)

    async def jobs(self, job_ids):  # the importer asks by id only for rows it holds as running
        return SacctDocument()


def import_figures(db: Database, jobs: list[dict]) -> dict[str, tuple[float, int]]:
    source = ReplayedSacct(jobs)
    importer = UsageImporter(db, source, chunk=dt.timedelta(days=31))

    def timed(now: dt.datetime, rewind: bool) -> tuple[float, int]:
        if rewind:
            with db.write() as session:
                session.merge(ImportState(source="sacct", watermark=NOW - dt.timedelta(days=31)))
        source.simulated, began = 0.0, time.perf_counter()
        report = asyncio.run(importer.run(now))
        return time.perf_counter() - began - source.simulated, report.rows_changed

    return {"first import": timed(NOW, True),
            "next incremental run": timed(NOW + dt.timedelta(minutes=5), False),
            "full re-import, same period": timed(NOW, True)}


def orm_baseline(db: Database, jobs: list[dict]) -> tuple[float, int]:
    """Row by row: look the job up, update or add it (what a first draft would do)."""
    with db.write() as session:
        session.execute(delete(UsageRecord).where(UsageRecord.cluster == "bench-orm"))
    text = json.dumps({"jobs": jobs, "errors": []})
    t = time.perf_counter()
    usages = list(parse_sacct(decode_sacct(text), NOW))
    with db.write() as session:
        for u in usages:
            row = session.scalar(select(UsageRecord).where(UsageRecord.cluster == "bench-orm",
                                                           UsageRecord.job_id == u.job_id))
            if row is None:
                session.add(UsageRecord(**{**u.as_row(), "cluster": "bench-orm"}))
            else:
                for key, value in u.as_row().items():
                    setattr(row, key, value)
    return time.perf_counter() - t, len(usages)


def bench(name: str, url: str, args, rng: random.Random) -> dict:
    print(f"[{name}] filling: {args.users} users, {args.projects} projects, {args.records} usage records…",
          file=sys.stderr, flush=True)
    db = Database(url)
    db.upgrade()
    t = time.perf_counter()
    fill(db, args.users, args.projects, args.records, rng)
    print(f"[{name}] filled in {time.perf_counter() - t:.0f} s", file=sys.stderr, flush=True)
    base, loop = serve(db)
    result = {"latency": latencies(base, args.requests, args.users, args.projects, rng),
              "baseline": per_project_baseline(db, args.requests, args.projects, rng)}
    loop.add_callback(loop.stop)
    jobs = sacct_jobs(args.jobs, args.projects, rng)
    result["import"] = import_figures(db, jobs)
    result["import baseline"] = orm_baseline(db, jobs)
    db.dispose()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--projects", type=int, default=2_000)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    rng = random.Random(2026)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["SQLite"] = bench("SQLite", f"sqlite:///{tmp}/ledger.sqlite", args, rng)
    if not args.no_postgres:
        from tests.harness.postgres import PostgresServer, postgres_bin
        server = PostgresServer(postgres_bin()).start()
        try:
            results["PostgreSQL"] = bench("PostgreSQL", server.database(), args, rng)
        finally:
            server.stop()

    print(f"\nAPI latency, {args.users} users / {args.projects} projects / {args.records} usage records "
          f"({args.requests} requests each): p50 / p99 (target p99 < 50 ms)")
    for name, r in results.items():
        for what, values in r["latency"].items():
            print(f"  {name:<11} {what:<42} {pct(values, .5) * 1000:7.1f} / {pct(values, .99) * 1000:7.1f} ms")
        b = r["baseline"]
        print(f"  {name:<11} {'admin list (50), project by project: baseline':<42} "
              f"{pct(b, .5) * 1000:7.1f} / {pct(b, .99) * 1000:7.1f} ms")
    print(f"\naccounting import of {args.jobs} sacct jobs (targets: first < 10 s, re-import < 1 s)")
    for name, r in results.items():
        for what, (seconds, changed) in r["import"].items():
            print(f"  {name:<11} {what:<42} {seconds:7.2f} s   {changed:7d} rows changed")
        seconds, count = r["import baseline"]
        print(f"  {name:<11} {'row-by-row ORM import: baseline':<42} {seconds:7.2f} s   {count:7d} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
