"""A distribution's integrity: its SHA-256 now, compared with the one it had at curation.

A file's digest is the SHA-256 of its bytes. A directory's is the SHA-256 of its manifest, the
text ``sha256sum`` prints for every regular file below it: one ``"<64 hex>  <relative/path>\\n"``
line per file, sorted by the path's bytes (UTF-8), hidden files included; links to files are
hashed by content, links to directories are not followed; FIFOs, sockets, devices and broken
links are not regular files and are left out. An empty directory's manifest is the empty text.

Files are read with one fixed buffer per worker thread, never whole; the files of a directory
are hashed by a thread pool (hashlib releases the GIL while it hashes a large block). With a
``journal`` each finished file is appended there (path, size, mtime, inode, digest) and flushed,
so that a digest interrupted (a ``cancel`` event, Ctrl-C, a crash) and started again with the same
journal re-reads only the files whose size, modification time or inode changed meanwhile; the
journal is deleted once the digest is complete.
"""
from __future__ import annotations

import hashlib
import json
import os
import stat
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

BUFFER_BYTES = 1 << 20  # per worker; large enough that hashlib hashes it without the GIL
_JOURNAL_FORMAT = "factoryhub-verify-journal/1"
_buffers = threading.local()


class Cancelled(Exception):
    """The digest was stopped by its ``cancel`` event before it was complete (its journal is kept)."""


@dataclass(frozen=True, slots=True)
class Digest:
    """A path's SHA-256 (a directory: of its manifest), how many files and bytes it covers, and the manifest."""
    sha256: str
    kind: str  # file | directory
    files: int
    bytes: int
    manifest: tuple[tuple[str, str], ...] | None = None  # (relative path, hex) sorted; directories only


@dataclass(frozen=True, slots=True)
class Check:
    """A distribution's verification: its state, both checksums, what was read and a sentence saying so."""
    state: str  # verified | changed | missing | unreadable | unchecked
    expected: str | None
    observed: str | None
    files: int
    bytes: int
    detail: str
    manifest: tuple[tuple[str, str], ...] | None = None


@dataclass(frozen=True, slots=True)
class _Stat:
    """What the journal compares to decide whether a file must be read again."""
    size: int
    mtime_ns: int
    inode: int

    @classmethod
    def of(cls, st: os.stat_result) -> _Stat:
        return cls(st.st_size, st.st_mtime_ns, st.st_ino)


def hash_file(path: str, stopped) -> tuple[str, _Stat]:
    """SHA-256 of one regular file (links followed) and its stat before reading; OSError when it is not one."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)  # O_NONBLOCK: a FIFO swapped in cannot hang us
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(0, "not a regular file", path)
        buffer = getattr(_buffers, "view", None)
        if buffer is None:
            buffer = _buffers.view = memoryview(bytearray(BUFFER_BYTES))
        digest = hashlib.sha256()
        with open(fd, "rb", buffering=0, closefd=False) as data:
            while read := data.readinto(buffer):
                if stopped():
                    raise Cancelled(f"stopped while reading {path}")
                digest.update(buffer[:read])
        return digest.hexdigest(), _Stat.of(st)
    finally:
        os.close(fd)


def regular_files(directory: str) -> list[tuple[str, str]]:
    """(relative path with '/', full path) of every regular file below ``directory`` (links to files
    included, links to directories not followed), sorted by the relative path's bytes."""
    found: list[tuple[str, str]] = []
    pending = [(directory, "")]
    while pending:
        folder, prefix = pending.pop()
        with os.scandir(folder) as items:
            for item in items:
                if item.is_dir(follow_symlinks=False):
                    pending.append((item.path, f"{prefix}{item.name}/"))
                elif item.is_file():  # follows a link; False for a broken one, a FIFO, a socket
                    found.append((prefix + item.name, item.path))
    found.sort(key=lambda pair: os.fsencode(pair[0]))
    return found


def manifest_text(manifest: Iterable[tuple[str, str]]) -> bytes:
    """The manifest as the bytes that are hashed: ``sha256sum``'s lines (names as the filesystem spells them)."""
    return b"".join(b"%s  %s\n" % (hex_.encode("ascii"), os.fsencode(rel)) for rel, hex_ in manifest)


class _Journal:
    """The files already hashed by an interrupted digest of ``root``, and where to append new ones."""

    def __init__(self, path: Path | None, root: str):
        self.path, self.root, self.done = path, root, {}
        self._lock, self._out = threading.Lock(), None
        if path is None:
            return
        if path.exists():
            self.done = self._read(path, root)
        fresh = not self.done
        self._out = open(path, "w" if fresh else "a", encoding="utf-8")  # noqa: SIM115 (closed in close())
        if fresh:
            self._write({"format": _JOURNAL_FORMAT, "root": root})

    @staticmethod
    def _read(path: Path, root: str) -> dict[str, tuple[_Stat, str]]:
        """The journal's finished files, or nothing when it belongs to another root; a torn last line is skipped."""
        done: dict[str, tuple[_Stat, str]] = {}
        with open(path, encoding="utf-8", errors="surrogateescape") as lines:
            for number, line in enumerate(lines):
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if number == 0:
                    if record != {"format": _JOURNAL_FORMAT, "root": root}:
                        return {}
                    continue
                try:
                    done[record["path"]] = (_Stat(record["size"], record["mtime_ns"], record["inode"]),
                                            record["sha256"])
                except (KeyError, TypeError):
                    continue
        return done

    def known(self, rel: str, full: str) -> str | None:
        """The journaled digest of ``rel`` when the file's stat is still the one it was hashed with."""
        previous = self.done.get(rel)
        if previous is None:
            return None
        try:
            now = _Stat.of(os.stat(full))
        except OSError:
            return None  # read it again: the error then names the file
        return previous[1] if now == previous[0] else None

    def add(self, rel: str, st: _Stat, hex_: str) -> None:
        """Append one finished file (flushed, so that a crash keeps it)."""
        if self._out is not None:
            self._write({"path": rel, "size": st.size, "mtime_ns": st.mtime_ns, "inode": st.inode, "sha256": hex_})

    def _write(self, record: dict) -> None:
        line = json.dumps(record, ensure_ascii=True)  # surrogate-escaped names survive as \udcXX
        with self._lock:
            self._out.write(line + "\n")
            self._out.flush()

    def close(self, complete: bool) -> None:
        """Close it; a complete digest deletes it."""
        if self._out is not None:
            self._out.close()
            self._out = None
        if complete and self.path is not None:
            self.path.unlink(missing_ok=True)


def digest_path(path, *, workers: int = 4, journal: Path | str | None = None,
                cancel: threading.Event | None = None) -> Digest:
    """The Digest of a file or directory; OSError (naming the file) when something cannot be read,
    :class:`Cancelled` when ``cancel`` is set first."""
    root = os.path.abspath(os.fspath(path))
    if workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    stop = threading.Event()

    def stopped() -> bool:
        return stop.is_set() or (cancel is not None and cancel.is_set())

    directory = os.path.isdir(root)
    files = regular_files(root) if directory else [(".", root)]
    book = _Journal(Path(journal) if journal is not None else None, root)
    complete = False
    try:
        hashed = {rel: (hex_, size) for rel, hex_, size in _hash_all(files, book, workers, stopped, stop)}
        complete = True
    finally:
        stop.set()  # Ctrl-C or an error: the other workers stop at their next block
        book.close(complete)
    manifest = tuple((rel, hashed[rel][0]) for rel, _ in files)
    total = sum(size for _, size in hashed.values())
    if not directory:
        return Digest(manifest[0][1], "file", 1, total)
    return Digest(hashlib.sha256(manifest_text(manifest)).hexdigest(), "directory", len(files), total, manifest)


def _hash_all(files: list[tuple[str, str]], book: _Journal, workers: int, stopped,
              stop: threading.Event) -> Iterator[tuple[str, str, int]]:
    """(relative path, hex, size) of each file: from the journal when unchanged, else read by the pool."""
    todo = []
    for rel, full in files:
        known = book.known(rel, full)
        if known is None:
            todo.append((rel, full))
        else:
            yield rel, known, book.done[rel][0].size
    if stopped() and todo:
        raise Cancelled("cancelled before reading")
    queue = iter(todo)
    with ThreadPoolExecutor(max_workers=min(workers, max(len(todo), 1)), thread_name_prefix="sha256") as pool:
        running: dict[Future, str] = {}

        def submit() -> None:
            following = next(queue, None)
            if following is not None:
                running[pool.submit(hash_file, following[1], stopped)] = following[0]

        try:
            for _ in range(2 * workers):  # a short queue: a cancel need not drain a long one
                submit()
            while running:
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    rel = running.pop(future)
                    hex_, st = future.result()
                    book.add(rel, st, hex_)
                    yield rel, hex_, st.size
                    if not stopped():
                        submit()
                if stopped():
                    raise Cancelled("cancelled")
        finally:
            stop.set()
            pool.shutdown(wait=True, cancel_futures=True)


def manifest_changes(old: Iterable[tuple[str, str]], new: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """Relative paths whose digest changed, that were added and that were removed from ``old`` to ``new``."""
    before, after = dict(old), dict(new)
    return {"changed": sorted(rel for rel in before.keys() & after.keys() if before[rel] != after[rel]),
            "added": sorted(after.keys() - before.keys()),
            "removed": sorted(before.keys() - after.keys())}


def human_bytes(count: float) -> str:
    """``1.2 GB``: decimal units, as disks and ``dd`` count."""
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if count < 1000 or unit == "TB":
            return f"{count:.0f} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1000
    raise AssertionError("unreachable")


def describe(digest: Digest) -> str:
    """What a digest read: ``3 files, 1.2 GB hashed`` (``a file of …``, ``an empty directory``)."""
    if digest.kind == "file":
        return f"1 file, {human_bytes(digest.bytes)} hashed"
    if digest.files == 0:
        return "an empty directory hashed"
    return f"{digest.files} file{'s' if digest.files != 1 else ''}, {human_bytes(digest.bytes)} hashed"


def verdict(expected: str | None, observed: str) -> tuple[str, str]:
    """(state, the sentence's end) of comparing an observed digest with the curated one."""
    if expected is None:
        return "unchecked", "no curated SHA-256 to compare with"
    if expected.lower() == observed:
        return "verified", "as curated"
    return "changed", "SHA-256 differs from the curated one"


def check_distribution(location, expected: str | None, *, workers: int = 4, journal: Path | str | None = None,
                       cancel: threading.Event | None = None) -> Check:
    """Hash ``location`` and compare it with ``expected`` (None: nothing to compare, state 'unchecked').

    Never raises for the data's sake: nothing there is 'missing', an error reading it 'unreadable'
    naming the file; only :class:`Cancelled` (and KeyboardInterrupt) go through.
    """
    where = os.fspath(location)
    if not os.path.exists(where):
        what = "a broken link" if os.path.islink(where) else "nothing"
        return Check("missing", expected, None, 0, 0, f"{what} at {where}")
    try:
        digest = digest_path(where, workers=workers, journal=journal, cancel=cancel)
    except OSError as err:
        if not os.path.exists(where):
            return Check("missing", expected, None, 0, 0, f"nothing at {where} any more")
        return Check("unreadable", expected, None, 0, 0, f"cannot read {err.filename or where}: {_reason(err)}")
    state, end = verdict(expected, digest.sha256)
    return Check(state, expected, digest.sha256, digest.files, digest.bytes, f"{describe(digest)}; {end}",
                 digest.manifest)


def _reason(err: OSError) -> str:
    return err.strerror or str(err) or type(err).__name__
