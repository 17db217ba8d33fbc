"""Verifying entries' data against their curated checksums: one entry at a time, for the command
line and for the service's schedule.

:func:`verify_entry` hashes an entry's distributions (through :mod:`.integrity`) and stores each
result; the :class:`Verifier` is the service's thin lifecycle around it: a queue of entries asked
for by stewards, and every ``every`` seconds the entries whose last verification is older.
Hashing runs in a worker thread, never on the event loop, one entry at a time so that a
verification does not take all of the filesystem's bandwidth from the users' jobs.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.exc import IntegrityError

from factoryhub.servicedb import Database, utcnow

from . import integrity_records as records
from .entries import Distribution, Entry
from .integrity import Cancelled, Check, check_distribution

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Verified:
    """One distribution's verification: where it is in the entry (1-based), the check and its duration."""
    position: int
    distribution: Distribution
    check: Check
    seconds: float
    recorded: records.Recorded | None = None

    @property
    def rate(self) -> float:
        """Bytes per second read."""
        return self.check.bytes / self.seconds if self.seconds > 0 else 0.0


JOURNAL_MAX_AGE = 7 * 86400.0  # seconds since its last progress: an older journal is not resumed


def journal_file(journal_dir: Path | None, entry_id: str, position: int) -> Path | None:
    """Where an interrupted verification of one distribution keeps the files it already hashed;
    one that made no progress for JOURNAL_MAX_AGE is removed (a verification resumes, it does not
    trust hashes from long ago)."""
    if journal_dir is None:
        return None
    path = journal_dir / f"{entry_id}.{position}.journal"
    try:
        if time.time() - path.stat().st_mtime > JOURNAL_MAX_AGE:
            path.unlink()
    except FileNotFoundError:
        pass
    return path


def verify_entry(entry: Entry, *, workers: int = 4, journal_dir: Path | None = None,
                 cancel: threading.Event | None = None, db: Database | None = None, by: str = "",
                 only_curated: bool = False) -> Iterator[Verified]:
    """Hash each distribution of ``entry`` and, with ``db``, record it (as ``by``); yields each result.

    ``only_curated`` skips distributions without a curated checksum (the schedule's way: hashing
    data there is nothing to compare with only costs bandwidth).
    """
    if journal_dir is not None:
        journal_dir.mkdir(parents=True, exist_ok=True)
    for position, dist in enumerate(entry.distributions, 1):
        if only_curated and dist.sha256 is None:
            continue
        started = time.monotonic()
        check = check_distribution(dist.location, dist.sha256, workers=workers,
                                   journal=journal_file(journal_dir, entry.id, position), cancel=cancel)
        seconds = time.monotonic() - started
        recorded = None
        if db is not None:
            recorded = _record(db, entry, position, check, by, seconds)
            _log(entry, position, recorded, check)
        yield Verified(position, dist, check, seconds, recorded)


def _record(db: Database, entry: Entry, position: int, check: Check, by: str, seconds: float) -> records.Recorded:
    """Store one check; when another verifier (the command line, the service) stored the same
    distribution's first result at the same moment, store it again over that one."""
    for attempt in (1, 2):
        try:
            with db.write() as session:
                return records.record_check(session, entry.id, position, entry.distributions[position - 1].location,
                                            check, by, seconds)
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _log(entry: Entry, position: int, recorded: records.Recorded, check: Check) -> None:
    if recorded.opened is not None:
        log.warning("Steward notification #%s: %s", recorded.opened,
                    records.alarm_message(entry.id, position, entry.distributions[position - 1].location, check))
    elif recorded.resolved:
        log.info("%s distribution %d verified again: %d notification(s) resolved", entry.id, position,
                 recorded.resolved)


class Verifier:
    """The service's verifications: those stewards ask for, then those the schedule says are due."""

    def __init__(self, db: Database, entries: Callable[[], tuple[Entry, ...]], *, every: float, workers: int,
                 journal_dir: Path | None, on_result: Callable[[Verified], None] = lambda _: None):
        self.db, self.entries, self.every, self.workers = db, entries, every, workers
        self.journal_dir, self.on_result = journal_dir, on_result
        self.cancel = threading.Event()
        self.running: str | None = None  # the entry being verified now
        self._queue: list[tuple[str, str]] = []  # (entry id, asked by)
        self._wake = asyncio.Event()

    def request(self, entry_id: str, by: str) -> int:
        """Queue ``entry_id`` (once); its position in the queue (0: next)."""
        queued = [queued_id for queued_id, _ in self._queue]
        if entry_id not in queued:
            self._queue.append((entry_id, by))
            queued.append(entry_id)
        self._wake.set()
        return queued.index(entry_id)

    @property
    def queued(self) -> list[str]:
        """Entry ids waiting, in order."""
        return [entry_id for entry_id, _ in self._queue]

    def _next(self) -> tuple[str, str, bool] | None:
        """(entry id, by whom, only curated distributions) of the next verification, or None."""
        if self._queue:
            entry_id, by = self._queue.pop(0)
            return entry_id, by, False
        if self.every <= 0:
            return None
        with self.db.read() as session:
            rows = records.all_states(session)
        due = records.due_entries(self.entries(), rows, utcnow(), dt.timedelta(seconds=self.every))
        return (due[0], "scheduled", True) if due else None

    def _verify(self, entry_id: str, by: str, only_curated: bool) -> None:
        entry = next((e for e in self.entries() if e.id == entry_id), None)
        if entry is None:
            log.info("Verification of %s skipped: no such entry any more", entry_id)
            return
        self.running = entry_id
        try:
            for result in verify_entry(entry, workers=self.workers, journal_dir=self.journal_dir, cancel=self.cancel,
                                       db=self.db, by=by, only_curated=only_curated):
                self.on_result(result)
        finally:
            self.running = None

    async def run(self) -> None:
        """Verify until cancelled; a failed verification is logged and the next one goes on."""
        loop = asyncio.get_running_loop()
        while not self.cancel.is_set():
            try:
                job = await loop.run_in_executor(None, self._next)
            except Exception:  # the database is away: look again later
                log.exception("Could not read the verification schedule")
                job = None
            if job is None:
                await self._idle()
                continue
            try:
                await loop.run_in_executor(None, self._verify, *job)
            except Cancelled:
                return
            except Exception:  # e.g. the database went away while recording: not again at once
                log.exception("Verification of %s failed; the schedule goes on", job[0])
                await self._idle()

    async def _idle(self) -> None:
        """Wait for a request, or (with a schedule) until it is time to look for due entries."""
        self._wake.clear()
        if self._queue:
            return
        try:
            await asyncio.wait_for(self._wake.wait(), min(self.every, 60.0) if self.every > 0 else None)
        except TimeoutError:
            pass

    def stop(self) -> None:
        """Stop the verification under way at its next file (its journal lets the next one resume)."""
        self.cancel.set()
        self._wake.set()
