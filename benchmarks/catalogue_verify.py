#!/usr/bin/env python3
"""Verifying catalogue data (issue 19): digest throughput beside the disk's read speed, and the
cost of a loader snippet's VERIFY flag.

    .venv/bin/python benchmarks/catalogue_verify.py [--scratch /tmp] [--gigabytes 10] [--keep]

Writes --gigabytes of files in a scratch folder (three large files, a folder of many 1-8 MB files,
a ~1 GB Parquet table), fsyncs them and evicts them from the page cache (posix_fadvise
DONTNEED; no root needed), then, each pass cold (evicted again first): ``dd if=FILE of=/dev/null
bs=4M`` over every file one at a time, and four at once (the baselines); ``digest_path`` over the
folder with 1, 2 and 4 workers; dd again (a drifting disk shows as two baselines apart). Then the
snippet's cost: pandas reading the table with VERIFY = False and with VERIFY = True (the code the
catalogue generates, run as a user's notebook does), and the check alone. Every verify runs in
a child process so its peak RSS is its own. The scratch folder is deleted unless --keep.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from factoryhub.catalogue.integrity import digest_path  # noqa: E402
from factoryhub.catalogue.snippets import distribution_snippets  # noqa: E402
from tests.unit.catalogue.builders import entry  # noqa: E402

MB = 1_000_000
CHUNK = 4 << 20
ROUNDS = 3

# Runs in a child: one digest, or one snippet; prints seconds and peak RSS (VmHWM: ru_maxrss would
# keep the parent's high-water mark across fork and exec) as JSON.
_PEAK_RSS = """
def peak_rss():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:"))
"""
_DIGEST_CHILD = _PEAK_RSS + """
import json, sys, time
from factoryhub.catalogue.integrity import digest_path
started = time.perf_counter()
digest = digest_path(sys.argv[1], workers=int(sys.argv[2]))
print(json.dumps({"seconds": time.perf_counter() - started, "bytes": digest.bytes, "files": digest.files,
                  "rss": peak_rss()}))
"""
_SNIPPET_CHILD = _PEAK_RSS + """
import json, sys, time
code = open(sys.argv[1]).read()
started = time.perf_counter()
exec(compile(code, "<snippet>", "exec"), {})
print(json.dumps({"seconds": time.perf_counter() - started,
                  "rss": peak_rss()}))
"""


def write_file(path: Path, size: int) -> None:
    """``size`` bytes of random data (nothing a filesystem could compress or share), fsynced."""
    with open(path, "wb") as out:
        left = size
        while left:
            block = os.urandom(min(CHUNK, left))
            out.write(block)
            left -= len(block)
        out.flush()
        os.fsync(out.fileno())


def write_table(path: Path, size: int) -> None:
    """A Parquet table of about ``size`` bytes (random floats: Parquet cannot compress them)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(19)
    rows = size // (8 * 8)
    pd.DataFrame({f"c{n}": rng.random(rows) for n in range(8)}).to_parquet(path, compression=None)
    with open(path, "rb") as data:
        os.fsync(data.fileno())


def make_data(root: Path, total: int) -> tuple[list[Path], Path]:
    """The files (10 %: the table; 60 %: three large files; 30 %: a folder of 1-8 MB files)."""
    import random

    rng = random.Random(19)
    table = root / "table.parquet"
    write_table(table, total // 10)
    for n in range(3):
        write_file(root / f"large-{n}.bin", total * 2 // 10)
    parts = root / "parts"
    parts.mkdir()
    left, n = total * 3 // 10, 0
    while left > 0:
        size = min(left, rng.randint(1 * MB, 8 * MB))
        write_file(parts / f"part-{n:05d}.bin", size)
        left, n = left - size, n + 1
    files = sorted(p for p in root.rglob("*") if p.is_file())
    return files, table


def evict(files: list[Path]) -> None:
    """Drop the files' pages from the page cache (they are clean: written and fsynced)."""
    for path in files:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def cached_bytes(files: list[Path]) -> int:
    """Bytes of the files still in the page cache, as fincore counts them (0 when it is absent)."""
    if shutil.which("fincore") is None:
        return 0
    out = subprocess.run(["fincore", "--bytes", "--noheadings", "--output", "RES", *map(str, files)],
                         capture_output=True, text=True).stdout
    return sum(int(line) for line in out.split())


def cold(files: list[Path]) -> None:
    """Evict, and stop when the cache still holds a noticeable part of the files."""
    evict(files)
    left = cached_bytes(files)
    if left > 64 * MB:
        raise SystemExit(f"could not evict the files from the page cache ({left / MB:.0f} MB still cached)")


def dd(files: list[Path], parallel: int) -> float:
    """Seconds for dd to read every file, ``parallel`` at a time."""
    started = time.perf_counter()
    pending = list(files)
    running: list[subprocess.Popen] = []
    while pending or running:
        while pending and len(running) < parallel:
            running.append(subprocess.Popen(["dd", f"if={pending.pop(0)}", "of=/dev/null", "bs=4M"],
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        running.pop(0).wait()
    return time.perf_counter() - started


def hashing_ceiling(threads: int) -> float:
    """MB/s SHA-256 reaches over data already in memory with ``threads`` threads (the CPU's bound)."""
    from concurrent.futures import ThreadPoolExecutor

    block, rounds = memoryview(bytes(CHUNK)), 64

    def hash_rounds(_) -> None:
        digest = hashlib.sha256()
        for _ in range(rounds):
            digest.update(block)

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(hash_rounds, range(threads)))
    return threads * rounds * CHUNK / MB / (time.perf_counter() - started)


def child(script: str, *args: str) -> dict:
    """Run a measurement in its own Python process; its JSON line."""
    run = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, cwd=REPO)
    if run.returncode:
        raise SystemExit(f"measurement failed:\n{run.stderr[-3000:]}")
    return json.loads(run.stdout.strip().splitlines()[-1])


def snippet_code(table: Path, sha256: str, verify: bool | None) -> str:
    """The catalogue's pandas snippet for the table (curated checksum); None: the check alone."""
    curated = entry("verify-benchmark", distributions=[
        {"title": "Table", "format": "parquet", "location": str(table), "sha256": sha256}])
    code = distribution_snippets(curated, curated.distributions[0])["pandas"]
    if verify is None:
        return code.partition("import pandas as pd")[0]
    return code.replace("VERIFY = True", f"VERIFY = {verify}", 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scratch", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--gigabytes", type=float, default=10.0)
    parser.add_argument("--keep", action="store_true", help="leave the scratch folder")
    args = parser.parse_args()
    total = int(args.gigabytes * 1000 * MB)
    root = Path(tempfile.mkdtemp(prefix="catalogue-verify-", dir=args.scratch))
    try:
        print(f"writing {total / 1e9:.1f} GB in {root}…", flush=True)
        started = time.perf_counter()
        files, table = make_data(root, total)
        size = sum(p.stat().st_size for p in files)
        print(f"  {len(files)} files, {size / 1e9:.2f} GB in {time.perf_counter() - started:.0f} s; "
              f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}", flush=True)
        measure(root, files, table, size)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    return 0


def measure(root: Path, files: list[Path], table: Path, size: int) -> None:
    """Every pass cold; the figures side by side."""
    rows: list[tuple[str, float, str]] = []
    cold(files)
    base = size / MB / dd(files, 1)
    rows.append(("dd bs=4M, one file at a time", base, ""))
    cold(files)
    rows.append(("dd bs=4M, four files at a time", size / MB / dd(files, 4), ""))
    for workers in (1, 2, 4):
        cold(files)
        run = child(_DIGEST_CHILD, str(root), str(workers))
        assert run["bytes"] == size, (run["bytes"], size)
        rows.append((f"digest_path, workers={workers}", size / MB / run["seconds"],
                     f"peak RSS {run['rss'] / MB:.0f} MB"))
    cold(files)
    again = size / MB / dd(files, 1)
    rows.append(("dd bs=4M, one file at a time (again)", again, ""))
    for threads in (1, 2):
        rows.append((f"SHA-256 in memory, {threads} thread{'s' if threads > 1 else ''} (no I/O)",
                     hashing_ceiling(threads), "the CPU's bound"))
    print(f"\ncold reads of {len(files)} files, {size / 1e9:.2f} GB (page cache evicted before each pass)")
    print(f"  {'':38} {'MB/s':>8} {'vs dd':>7}")
    for name, rate, note in rows:
        print(f"  {name:38} {rate:8.0f} {rate / base:7.2f}  {note}")

    table_mb = table.stat().st_size / MB
    print(f"\nloader snippet, pandas.read_parquet of a {table_mb:.0f} MB table, cold; child processes, "
          f"median of {ROUNDS} rounds after a warm-up")
    sha256 = digest_path(table).sha256
    kinds = {"VERIFY = False": False, "VERIFY = True": True, "the check alone": None}
    scripts = {}
    for label, verify in kinds.items():
        scripts[label] = root / f"snippet-{len(scripts)}.py"
        scripts[label].write_text(snippet_code(table, sha256, verify))
    child(_SNIPPET_CHILD, str(scripts["VERIFY = True"]))  # pandas' own files into the cache
    runs: dict[str, list[dict]] = {label: [] for label in kinds}
    for _ in range(ROUNDS):  # interleaved, so that a drifting disk affects each alike
        for label in kinds:
            cold([table])
            runs[label].append(child(_SNIPPET_CHILD, str(scripts[label])))
    results = {label: {key: statistics.median(run[key] for run in done) for key in ("seconds", "rss")}
               for label, done in runs.items()}
    plain = results["VERIFY = False"]["seconds"]
    print(f"  {'':20} {'seconds':>8} {'vs False':>9} {'peak RSS':>10}")
    for label, run in results.items():
        print(f"  {label:20} {run['seconds']:8.2f} {run['seconds'] / plain:9.2f} {run['rss'] / MB:7.0f} MB")
    print(f"  the check read {table_mb / results['the check alone']['seconds']:.0f} MB/s; the load alone "
          f"{table_mb / plain:.0f} MB/s (pandas' import included)")


if __name__ == "__main__":
    sys.exit(main())
