"""Slurm accounting (``sacct --json -X``) as usage: GPUs and CPUs allocated × elapsed time.

Pure decoding: no database, no subprocess. Every job the controller accounted counts,
whether the hub submitted it or a user ran ``sbatch`` by hand.

sacct prints ~2 kB of JSON per job, of which the ledger reads a dozen fields. The typed schema
below names exactly those; the decoder skips everything else without building it, which is
what makes a 100,000-job window cheap (a generic JSON parse builds ~50 objects per job).
"""
from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import msgspec

from factoryhub.heap import gc_paused


class AccountingFormatError(ValueError):
    """sacct output this parser does not understand (names the job or the field)."""


# --- the part of sacct's JSON the ledger reads (Slurm 22.05; newer data parsers noted) ---
# gc=False: decoded documents hold no cycles, so the collector need not track (and walk) them.

class _Number(msgspec.Struct, gc=False):
    """Newer data parsers wrap numbers: {"set": true, "infinite": false, "number": N}."""
    number: int = 0
    set: bool = True


class _Tres(msgspec.Struct, gc=False):
    type: str = ""
    name: str | None = None
    count: int | None = None


class _TresSets(msgspec.Struct, gc=False):
    allocated: list[_Tres] = []


class _Times(msgspec.Struct, gc=False):
    start: int | _Number | None = 0  # null for a job cancelled before it started
    end: int | _Number | None = 0


class _State(msgspec.Struct, gc=False):
    current: str | list[str] = ""  # a list in newer data parsers


class SacctJob(msgspec.Struct, gc=False):
    """One job of ``sacct --json`` output, only the fields the ledger charges by."""
    job_id: int
    cluster: str
    account: str | None
    user: str | None
    partition: str | None = None
    state: _State | str = ""
    time: _Times = msgspec.field(default_factory=_Times)
    tres: _TresSets = msgspec.field(default_factory=_TresSets)


class SacctDocument(msgspec.Struct, gc=False):
    """A whole ``sacct --json`` document: its jobs and the errors Slurm reported."""
    jobs: list[SacctJob] = []
    errors: list[dict] = []

    def error_text(self) -> str:
        return "; ".join(f"{e.get('source', '?')}: {e.get('description') or e.get('error')}" for e in self.errors)


_DECODER = msgspec.json.Decoder(SacctDocument)


def decode_sacct(raw: str | bytes) -> SacctDocument:
    """The fields the ledger reads from ``sacct --json`` output; the error names where it broke."""
    try:
        with gc_paused():  # lists of a 100,000-job window would set the collector off again and again
            return _DECODER.decode(raw)
    # err reads e.g. "Expected `int`, got `str` - at `$.jobs[3].time.start`"
    except (msgspec.DecodeError, msgspec.ValidationError) as err:
        raise AccountingFormatError(f"sacct output: {err}") from None


# --- usage ------------------------------------------------------------------------------

@dataclass(frozen=True)
class JobUsage:
    """What one job used, ready for the ledger: who, which account, when and how many GPU- and CPU-seconds."""
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
    fingerprint: int = 0  # of the signature: a stored row with the same one needs no rewrite

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
                "gpu_seconds": self.gpu_seconds, "cpu_seconds": self.cpu_seconds, "fingerprint": self.fingerprint}


def _epoch(value: int | _Number | None) -> int:
    """Epoch seconds; 0 for 'not yet'."""
    if isinstance(value, _Number):
        return value.number if value.set else 0
    return value or 0


def _allocated(tres: _TresSets) -> tuple[int, int]:
    """(GPUs, CPUs) from ``tres.allocated``: the generic gres/gpu entry, not the typed ones."""
    gpus = cpus = 0
    for item in tres.allocated:
        if item.type == "gres" and item.name == "gpu":
            gpus = item.count or 0
        elif item.type == "cpu":
            cpus = item.count or 0
    return gpus, cpus


def _state(state: _State | str) -> str:
    current = state.current if isinstance(state, _State) else state
    return (current[0] if current else "") if isinstance(current, list) else current


def _utc(epoch: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, dt.UTC)


def signature(job: SacctJob) -> tuple:
    """What the ledger stores of a job, before any conversion: (account, user, partition, state,
    start, end, GPUs, CPUs) with epoch seconds (0: not yet). Equal signatures, equal rows.
    (Runs for every job of every import window: kept to plain lookups.)"""
    times = job.time
    start, end = times.start, times.end
    start = start if start.__class__ is int else _epoch(start)
    end = end if end.__class__ is int else _epoch(end)
    if end and end < start:  # a job cancelled while pending may report end < start
        end = start
    gpus, cpus = _allocated(job.tres)
    return (job.account or "", job.user or "", job.partition or "", _state(job.state), start, end, gpus, cpus)


def fingerprint(signature_: tuple) -> int:
    """A signed 64-bit digest of a signature (what a BIGINT column holds); stable across processes."""
    account, user, partition, state, start, end, gpus, cpus = signature_
    text = f"{account}\x1f{user}\x1f{partition}\x1f{state}\x1f{start}\x1f{end}\x1f{gpus}\x1f{cpus}"
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big", signed=True)


def parse_job(job: SacctJob, now: dt.datetime) -> JobUsage | None:
    """One sacct job; None for a job that never started (it used nothing)."""
    sig = signature(job)
    account, user, partition, state, start, end, gpus, cpus = sig
    if not start:
        return None
    elapsed = (end or int(now.timestamp())) - start
    return JobUsage(cluster=job.cluster, job_id=str(job.job_id), account=account, username=user,
                    partition=partition, state=state, start_at=_utc(start), end_at=_utc(end) if end else None,
                    gpus=gpus, cpus=cpus, elapsed_seconds=max(0, elapsed), fingerprint=fingerprint(sig))


def parse_sacct(document: SacctDocument, now: dt.datetime, skip: Callable[[SacctJob], bool] | None = None
                ) -> Iterator[JobUsage]:
    """Every started job of a decoded ``sacct --json`` document (less those ``skip`` names)."""
    if document.errors:
        raise AccountingFormatError(f"sacct reported errors: {document.error_text()}")
    for job in document.jobs:
        if skip is not None and skip(job):
            continue
        usage = parse_job(job, now)
        if usage is not None:
            yield usage
