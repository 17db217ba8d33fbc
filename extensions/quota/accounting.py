"""Slurm accounting (``sacct --json -X``) as usage: GPUs and CPUs allocated × elapsed time.

Pure parsing: no database, no subprocess. Every job the controller accounted counts,
whether the hub submitted it or a user ran ``sbatch`` by hand.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass


class AccountingFormatError(ValueError):
    """sacct output this parser does not understand (names the job and the field)."""


@dataclass(frozen=True)
class JobUsage:
    cluster: str
    job_id: str
    account: str
    username: str
    partition: str
    state: str
    start_at: dt.datetime
    end_at: dt.datetime | None  # None while the job runs
    gpus: int
    cpus: int
    elapsed_seconds: int

    @property
    def gpu_seconds(self) -> int:
        return self.gpus * self.elapsed_seconds

    @property
    def cpu_seconds(self) -> int:
        return self.cpus * self.elapsed_seconds

    def as_row(self) -> dict:
        return {"cluster": self.cluster, "job_id": self.job_id, "account": self.account, "username": self.username,
                "partition": self.partition, "state": self.state, "start_at": self.start_at, "end_at": self.end_at,
                "gpus": self.gpus, "cpus": self.cpus, "elapsed_seconds": self.elapsed_seconds,
                "gpu_seconds": self.gpu_seconds, "cpu_seconds": self.cpu_seconds}


def _epoch(value) -> dt.datetime | None:
    """sacct times: epoch seconds, 0 for 'not yet' ({"number": N} in newer data parsers)."""
    if isinstance(value, dict):
        value = value.get("number") if value.get("set", True) else 0
    return dt.datetime.fromtimestamp(int(value), dt.timezone.utc) if value else None


def _allocated(tres: dict) -> tuple[int, int]:
    """(GPUs, CPUs) from ``tres.allocated``: the generic gres/gpu entry, not the typed ones."""
    gpus = cpus = 0
    for item in tres.get("allocated") or []:
        count = int(item.get("count") or 0)
        if item.get("type") == "gres" and item.get("name") == "gpu":
            gpus = count
        elif item.get("type") == "cpu":
            cpus = count
    return gpus, cpus


def _state(job: dict) -> str:
    state = job.get("state", {})
    current = state.get("current") if isinstance(state, dict) else state
    return str(current[0] if isinstance(current, list) and current else current or "")


def parse_job(job: dict, now: dt.datetime) -> JobUsage | None:
    """One sacct job; None for a job that never started (it used nothing)."""
    try:
        times = job["time"]
        start, end = _epoch(times.get("start")), _epoch(times.get("end"))
        if start is None:
            return None
        if end is not None and end < start:  # a job cancelled while pending may report end < start
            end = start
        elapsed = int((end or now).timestamp() - start.timestamp())
        gpus, cpus = _allocated(job.get("tres") or {})
        return JobUsage(cluster=str(job["cluster"]), job_id=str(job["job_id"]), account=str(job["account"] or ""),
                        username=str(job["user"] or ""), partition=str(job.get("partition") or ""),
                        state=_state(job), start_at=start, end_at=end, gpus=gpus, cpus=cpus,
                        elapsed_seconds=max(0, elapsed))
    except (KeyError, TypeError, ValueError) as err:
        raise AccountingFormatError(f"sacct job {job.get('job_id', '?')}: unexpected field ({err!r})") from None


def parse_sacct(document: dict, now: dt.datetime) -> Iterator[JobUsage]:
    """Every started job of a ``sacct --json`` document."""
    if document.get("errors"):
        raise AccountingFormatError(f"sacct reported errors: {document['errors']}")
    jobs: Iterable[dict] = document.get("jobs") or []
    for job in jobs:
        usage = parse_job(job, now)
        if usage is not None:
            yield usage
