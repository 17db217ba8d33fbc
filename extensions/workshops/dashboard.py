"""The trainer's view of a workshop: each participant's session, what it costs so far, the budget used,
and the end-of-workshop report (participants, GPU-hours and sessions from the quota ledger)."""
from __future__ import annotations

import asyncio
import csv
import io
import time
from collections.abc import Iterable

from sqlalchemy import select

from factoryhub.costs import session_cost_gpu_hours
from factoryhub.restclient import RemoteError, segment
from factoryhub.spawners.slurm.queue import LIMIT_REASONS, WAITING_REASONS, Job, parse_job

from .models import Participant, Workshop
from .parts import Parts

IMPORT_SECONDS = 600.0
HUB_CONCURRENCY = 8
REPORT_FIELDS = ["username", "kind", "display_name", "joined_at", "sessions", "gpu_hours"]


def gpus_of(job: Job) -> int:
    """GPUs a job asked for per node, from squeue's tres_per_node ('gres:gpu:h100:2', 'gres/gpu:1')."""
    for item in job.gres.split(","):
        parts = item.replace("/", ":").split(":")
        if "gpu" in parts and parts[-1].isdigit():
            return int(parts[-1])
    return 0


def session_row(username: str, server: dict | None, job: Job | None, price: float, now: float) -> dict:
    """One participant's line on the dashboard (pure: the hub's server model and the Slurm job as read)."""
    row = {"username": username, "state": "stopped", "reason": None, "node": None, "job_id": None,
           "cost_gpu_hours": 0.0}
    if server:
        row["state"] = "running" if server.get("ready") else (server.get("pending") or "starting")
    if job is None:
        return row
    row["job_id"] = job.job_id
    if job.pending:
        row["state"] = "pending"
        row["reason"] = LIMIT_REASONS.get(job.reason) or WAITING_REASONS.get(job.reason) or job.reason
    elif job.running:
        row["node"] = job.node
        hours = max(0.0, now - job.start_time) / 3600 if job.start_time else 0.0
        row["cost_gpu_hours"] = round(session_cost_gpu_hours(gpus_of(job), hours, price), 4)
        if row["state"] == "stopped":
            row["state"] = "starting"
    return row


def participants(parts: Parts, workshop_id: str) -> list[Participant]:
    """The workshop's participants, by username."""
    with parts.db.read() as session:
        return list(session.scalars(select(Participant).where(Participant.workshop_id == workshop_id)
                                    .order_by(Participant.username)))


async def dashboard(parts: Parts, workshop: Workshop) -> dict:
    """Participants with their session state, and the budget's use (GPU-hours)."""
    people = participants(parts, workshop.id)
    jobs: dict[str, Job] = {}
    for raw in await parts.slurm.jobs_of(workshop.account):
        job = parse_job(raw)
        if job.active and (job.user not in jobs or job.running):
            jobs[job.user] = job
    price = parts.profiles[workshop.profile].price if workshop.profile in parts.profiles else 1.0
    gate = asyncio.Semaphore(HUB_CONCURRENCY)

    async def server_of(username: str) -> dict | None:
        async with gate:
            try:
                model = await parts.hub.call("GET", f"/users/{segment(username)}")
            except RemoteError as err:
                if err.status != 404:
                    raise
                return None
        return (model.get("servers") or {}).get("")

    # a few at a time, not one after another: a dashboard of 200 seats is viewed every few seconds
    servers = await asyncio.gather(*(server_of(p.username) for p in people))
    rows = []
    now = time.time()
    for person, server in zip(people, servers, strict=True):
        row = session_row(person.username, server, jobs.get(person.username), price, now)
        row.update(kind=person.kind.value, display_name=person.display_name, joined_at=person.joined_at.isoformat())
        rows.append(row)
    budget = await budget_use(parts, workshop)
    return {"participants": rows, "budget": budget}


async def budget_use(parts: Parts, workshop: Workshop) -> dict:
    """The training project's allocation, use and holds, as the quota ledger has them."""
    try:
        project = await parts.quota.call("GET", f"/projects/{segment(workshop.account)}")
    except RemoteError as err:
        return {"budget_gpu_hours": workshop.budget_gpu_seconds / 3600, "problem": str(err)}
    return {"budget_gpu_hours": workshop.budget_gpu_seconds / 3600,
            "used_gpu_hours": project.get("used_gpu_hours"), "held_gpu_hours": project.get("held_gpu_hours"),
            "remaining_gpu_hours": project.get("remaining_gpu_hours")}


def usage_by_user(csv_text: str) -> dict[str, tuple[int, float]]:
    """The quota ledger's usage CSV -> username -> (jobs, GPU-hours)."""
    totals: dict[str, tuple[int, float]] = {}
    for record in csv.DictReader(io.StringIO(csv_text)):
        jobs, hours = totals.get(record["username"], (0, 0.0))
        totals[record["username"]] = (jobs + 1, hours + float(record["gpu_hours"] or 0))
    return totals


def report(workshop: Workshop, people: Iterable[Participant], usage: dict[str, tuple[int, float]]) -> dict:
    """The end-of-workshop report: each participant's sessions and GPU-hours, and the totals."""
    rows = []
    for person in people:
        jobs, hours = usage.get(person.username, (0, 0.0))
        rows.append({"username": person.username, "kind": person.kind.value, "display_name": person.display_name,
                     "joined_at": person.joined_at.isoformat(), "sessions": jobs, "gpu_hours": round(hours, 4)})
    trainer_jobs, trainer_hours = usage.get(workshop.trainer, (0, 0.0))
    total = sum(h for _j, h in usage.values())
    return {"workshop": workshop.id, "title": workshop.title, "trainer": workshop.trainer,
            "account": workshop.account, "starts_at": workshop.starts_at.isoformat(),
            "ends_at": workshop.ends_at.isoformat(), "budget_gpu_hours": workshop.budget_gpu_seconds / 3600,
            "participants": rows, "trainer_sessions": trainer_jobs, "trainer_gpu_hours": round(trainer_hours, 4),
            "total_gpu_hours": round(total, 4), "total_sessions": sum(j for j, _h in usage.values())}


def report_csv(data: dict) -> str:
    """The report's participant lines as CSV (a totals line last)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(REPORT_FIELDS)
    for row in data["participants"]:
        writer.writerow([row[f] for f in REPORT_FIELDS])
    writer.writerow(["(total)", "", "", "", data["total_sessions"], data["total_gpu_hours"]])
    return out.getvalue()


async def current_report(parts: Parts, workshop: Workshop, import_first: bool = True) -> dict:
    """The report from the ledger now (after importing Slurm accounting, so finished jobs are in)."""
    if import_first:  # a first import reads all of Slurm's accounting: minutes on a busy cluster
        await parts.quota.call("POST", "/imports", timeout=IMPORT_SECONDS)
    days = max(1, (parts.clock() - workshop.created_at).days + 2)
    text = await parts.quota.text(f"/projects/{segment(workshop.account)}/usage.csv?days={min(days, 366)}")
    return report(workshop, participants(parts, workshop.id), usage_by_user(text))
