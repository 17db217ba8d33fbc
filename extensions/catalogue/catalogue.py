"""The catalogue as served: an immutable snapshot of entries and their search index, and the
loader that makes a new snapshot when files change.

Reloading reads only files whose size or modification time changed. A file that breaks keeps
serving its last good version (reported as stale); a new broken file is reported and left
out; a directory that cannot be read at all leaves the previous snapshot in place.
"""
from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import InitVar, dataclass, field
from pathlib import Path

from factoryhub.heap import gc_paused

from .entries import Entry, EntryError, EntryProblem, entry_files, entry_notices, load_entry
from .index import SearchIndex

log = logging.getLogger(__name__)


class CatalogueUnavailable(RuntimeError):
    """The catalogue directory cannot be read; the previous snapshot stays."""


@dataclass(frozen=True)
class Catalogue:
    """One loaded snapshot of the catalogue: its entries, the files that failed, the notices about
    entries served in a deprecated form, and the search index over them."""
    entries: tuple[Entry, ...]
    problems: tuple[EntryProblem, ...] = ()
    stale: tuple[str, ...] = ()  # ids served from their last good version
    notices: tuple[EntryProblem, ...] = ()  # served, but a steward should fix them (e.g. free-text provenance)
    version: str = ""
    loaded_at: float = field(default_factory=time.time)
    previous: InitVar[Catalogue | None] = None  # its index's word lists are reused for unchanged entries

    def __post_init__(self, previous: Catalogue | None):
        object.__setattr__(self, "index", SearchIndex(self.entries, previous.index if previous else None))
        object.__setattr__(self, "by_id", {e.id: i for i, e in enumerate(self.entries)})

    def get(self, entry_id: str) -> Entry | None:
        position = self.by_id.get(entry_id)
        return None if position is None else self.entries[position]


@dataclass
class _Cached:
    stamp: tuple[int, int]  # (mtime_ns, size)
    entry: Entry | None
    problem: EntryProblem | None


class CatalogueLoader:
    """Keeps what it read, so a reload parses only changed files."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self._files: dict[Path, _Cached] = {}
        self._last_good: dict[Path, Entry] = {}
        self._served: Catalogue | None = None

    def _read(self, path: Path, stamp: tuple[int, int]) -> _Cached:
        try:
            return _Cached(stamp, load_entry(path), None)
        except EntryError as err:
            return _Cached(stamp, None, err.problem)

    def load(self) -> Catalogue:
        if not self.directory.is_dir():
            raise CatalogueUnavailable(f"{self.directory}: the catalogue directory does not exist or is not a folder")
        try:
            paths = entry_files(self.directory)
        except OSError as err:
            raise CatalogueUnavailable(f"{self.directory}: cannot be listed ({err.strerror})") from None
        files, entries, problems, notices, stale, seen = {}, [], [], [], [], {}
        for path in paths:
            try:
                info = os.stat(path)
            except OSError:
                continue  # removed while we listed
            stamp = (info.st_mtime_ns, info.st_size)
            cached = self._files.get(path)
            files[path] = cached if cached and cached.stamp == stamp else self._read(path, stamp)
        for path, cached in files.items():
            entry = cached.entry
            if cached.problem:
                problems.append(cached.problem)
                entry = self._last_good.get(path)
                if entry:
                    stale.append(entry.id)
            if entry is None:
                continue
            if entry.id in seen:
                problems.append(EntryProblem(str(path), "", f"the id {entry.id!r} is taken by {seen[entry.id]}"))
                continue
            seen[entry.id] = path
            entries.append(entry)
            notices.extend(entry_notices(entry, str(path)))
        self._files = files
        self._last_good = {p: c.entry for p, c in files.items() if c.entry} | \
                          {p: e for p, e in self._last_good.items() if p in files and files[p].entry is None}
        version = hashlib.sha256(repr(sorted((str(p), c.stamp) for p, c in files.items())).encode()).hexdigest()[:16]
        if self._served is not None and self._served.version == version:
            return self._served  # nothing changed: no new index
        for problem in problems:
            log.warning("Catalogue entry skipped: %s", problem.describe())
        for notice in notices:
            log.info("Catalogue entry served with a notice: %s", notice.describe())
        with gc_paused():  # an index of acyclic sets and integers: nothing for the collector to find
            self._served = Catalogue(tuple(entries), tuple(problems), tuple(stale), tuple(notices), version,
                                     previous=self._served)
        return self._served


def describe_problems(problems: Sequence[EntryProblem]) -> list[dict]:
    """The problems (or notices) of a catalogue load as JSON records (file, field, reason) for the API and the pages."""
    return [{"file": p.file, "field": p.field, "reason": p.reason} for p in problems]
