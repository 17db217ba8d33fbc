"""The scheduler's queue as plain data: parsing ``squeue --json`` and reading it.

Pure functions over a :class:`QueueSnapshot`; no I/O. The watcher takes snapshots,
spawners and the reconciler read them.
"""
from __future__ import annotations

from dataclasses import dataclass, field

ACTIVE_STATES = {"PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED", "REQUEUED", "RESIZING"}
RUNNING_STATES = {"RUNNING", "COMPLETING"}

# Pending reasons that will not clear by waiting: a limit holds the job.
LIMIT_REASONS = {
    "AssocGrpGRESMinutes": "the project's GPU-hour budget is exhausted",
    "AssocGrpGRESRunMinutes": "the project's running GPU-hour limit is reached",
    "AssocGrpCPUMinutes": "the project's CPU-hour budget is exhausted",
    "AssocGrpBillingMinutes": "the project's budget is exhausted",
    "AssocMaxJobsLimit": "the project's limit on running jobs is reached",
    "AssocGrpGRES": "the project's limit on GPUs in use is reached",
    "QOSGrpGRESMinutes": "the QOS GPU-hour budget is exhausted",
    "QOSMaxGRESPerUser": "your limit on GPUs in use is reached",
    "QOSMaxWallDurationPerJobLimit": "the walltime exceeds the QOS limit",
    "PartitionTimeLimit": "the walltime exceeds the partition's limit",
    "AccountNotAllowed": "the project may not use this partition",
    "InvalidAccount": "the project is not valid",
    "InvalidQOS": "the QOS is not valid",
    "PartitionDown": "the partition is down",
    "PartitionInactive": "the partition is inactive",
    "JobHeldAdmin": "an administrator holds the job",
    "JobHeldUser": "the job is held",
    "BadConstraints": "the request cannot be satisfied",
}
WAITING_REASONS = {
    "None": "waiting to be scheduled",
    "Priority": "waiting behind higher-priority jobs",
    "Resources": "waiting for free resources",
    "Reservation": "waiting for its reservation to start",
    "BeginTime": "waiting for its start time",
    "Dependency": "waiting for another job",
    "Licenses": "waiting for licences",
    "NodeDown": "waiting for a node to come back",
    "ReqNodeNotAvail": "waiting: the nodes it needs are reserved or unavailable",
}


@dataclass(frozen=True)
class Job:
    """One job as the watcher last saw it."""

    job_id: str
    state: str
    reason: str
    user: str
    account: str
    partition: str
    name: str
    comment: str
    node: str
    priority: int
    submit_time: int
    start_time: int
    gres: str = ""

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def running(self) -> bool:
        return self.state in RUNNING_STATES

    @property
    def pending(self) -> bool:
        return self.state == "PENDING"

    @property
    def held_by_limit(self) -> bool:
        return self.pending and self.reason in LIMIT_REASONS


def _first(value):
    """squeue --json states may be a string or a one-element list, by version."""
    if isinstance(value, list):
        return value[0] if value else ""
    return value if value is not None else ""


def _number(value) -> int:
    if isinstance(value, dict):  # newer data_parser: {"set": true, "number": N}
        return int(value.get("number") or 0) if value.get("set", True) else 0
    return int(value or 0)


def parse_job(raw: dict) -> Job:
    """A :class:`Job` from one job of ``squeue --json`` output."""
    return Job(
        job_id=str(raw.get("job_id")),
        state=str(_first(raw.get("job_state"))),
        reason=str(raw.get("state_reason") or "None"),
        user=str(raw.get("user_name") or ""),
        account=str(raw.get("account") or ""),
        partition=str(raw.get("partition") or ""),
        name=str(raw.get("name") or ""),
        comment=str(raw.get("comment") or ""),
        node=str(raw.get("batch_host") or raw.get("nodes") or ""),
        priority=_number(raw.get("priority")),
        submit_time=_number(raw.get("submit_time")),
        start_time=_number(raw.get("start_time")),
        gres=str(raw.get("tres_per_node") or ""),
    )


@dataclass(frozen=True)
class QueueSnapshot:
    """Every job the controller knew at ``taken_at`` (monotonic seconds)."""

    jobs: dict[str, Job] = field(default_factory=dict)
    taken_at: float = 0.0

    @classmethod
    def from_squeue(cls, data: dict, taken_at: float) -> QueueSnapshot:
        jobs = (parse_job(raw) for raw in data.get("jobs", []))
        return cls({job.job_id: job for job in jobs}, taken_at)

    def get(self, job_id: str) -> Job | None:
        return self.jobs.get(job_id)

    def jobs_ahead(self, job: Job) -> int:
        """Pending jobs in the same partition that the scheduler considers first."""
        def key(j: Job):
            return (-j.priority, j.submit_time, int(j.job_id) if j.job_id.isdigit() else 0)
        return sum(1 for other in self.jobs.values()
                   if other.pending and other.partition == job.partition and key(other) < key(job))

    def with_comment_prefix(self, prefix: str) -> list[Job]:
        return [j for j in self.jobs.values() if j.comment.startswith(prefix)]


def describe_pending(job: Job, snapshot: QueueSnapshot, gpu_label: str | None, now: float) -> str:
    """The pending state in plain words, e.g. 'waiting for a free H100 — 2 jobs ahead, expected in 5 min'."""
    if job.held_by_limit:
        return f"held: {LIMIT_REASONS[job.reason]} (Slurm reason {job.reason})"
    if job.reason == "Resources" and gpu_label:
        words = f"waiting for a free {gpu_label}"
    else:
        words = WAITING_REASONS.get(job.reason, f"waiting (Slurm reason {job.reason})")
    ahead = snapshot.jobs_ahead(job)
    words += f" — {ahead} job{'s' if ahead != 1 else ''} ahead" if ahead else " — next in line"
    if job.start_time and job.start_time > now:
        minutes = max(1, round((job.start_time - now) / 60))
        words += f", expected to start in about {minutes} min"
    return words
