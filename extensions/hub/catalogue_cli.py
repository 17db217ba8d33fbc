"""``factoryhub catalogue``: verify catalogue data against its curated checksums, and compute
the checksums a steward curates, from a shell on a machine that sees the cluster's filesystems.

``verify`` records what it finds in the catalogue service's database (as the scheduled check in
the service does), so the badge, the notifications and the metrics follow; ``checksum`` only
prints the ``sha256:`` lines to paste into an entry file.
"""
from __future__ import annotations

import argparse
import getpass
import os
import signal
import sys
import threading
from pathlib import Path

from .site import SiteError, load_site

ALARMS = ("changed", "missing", "unreadable")


def add_parser(sub) -> None:
    """The ``catalogue`` verb and its sub-verbs."""
    verb = sub.add_parser("catalogue", help="verify catalogue data against its checksums; compute checksums")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--site", help="site.yaml (default: what the hub would read) for the catalogue folder and "
                        "database")
    common.add_argument("--catalogue-dir", type=Path, help="the catalogue's entry files (default: the site's)")
    common.add_argument("--workers", type=int, default=4, help="files hashed at the same time (default 4)")
    actions = verb.add_subparsers(dest="action", required=True)
    verify = actions.add_parser("verify", parents=[common],
                                help="hash entries' data, compare with the curated SHA-256, record it")
    verify.add_argument("entries", nargs="*", metavar="ENTRY", help="entry ids (default: every entry with a "
                        "curated checksum)")
    verify.add_argument("--db-url", help="the catalogue service's database (default: the site's)")
    verify.add_argument("--no-record", action="store_true", help="only print; record nothing")
    verify.add_argument("--journal-dir", type=Path,
                        default=Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "factoryhub-verify",
                        help="where an interrupted verification keeps its progress; run again to resume "
                        "(default: ~/.cache/factoryhub-verify)")
    checksum = actions.add_parser("checksum", parents=[common],
                                  help="print the sha256 of each distribution, to curate it")
    checksum.add_argument("entries", nargs="+", metavar="ENTRY")


def _where(args) -> tuple[Path, str]:
    """The catalogue folder and database URL: the options, else the site's."""
    from .catalogue_wiring import catalogue_directory

    db_url = "" if args.action == "checksum" or args.no_record else args.db_url or ""
    needs_db = args.action == "verify" and not args.no_record
    loaded = None
    if args.site or args.catalogue_dir is None or (needs_db and not db_url):
        loaded = load_site(args.site)
    directory = args.catalogue_dir or catalogue_directory(loaded)
    if needs_db and not db_url:
        db_url = loaded.site.databases.catalogue.format(state_dir=loaded.state_dir)
    return directory, db_url


def _entries(directory: Path, wanted: list[str], curated_only: bool):
    from factoryhub.catalogue.catalogue import CatalogueLoader

    catalogue = CatalogueLoader(directory).load()
    for problem in catalogue.problems:
        print(f"warning: {problem.describe()}", file=sys.stderr)
    if not wanted:
        return [e for e in catalogue.entries if not curated_only or any(d.sha256 for d in e.distributions)]
    unknown = [entry_id for entry_id in wanted if catalogue.get(entry_id) is None]
    if unknown:
        raise ValueError(f"no catalogue entry {', '.join(map(repr, unknown))} in {directory}")
    return [catalogue.get(entry_id) for entry_id in wanted]


def _verify(args, directory: Path, db_url: str) -> int:
    from factoryhub.catalogue.integrity import human_bytes
    from factoryhub.catalogue.service import MIGRATIONS
    from factoryhub.catalogue.verification import verify_entry
    from factoryhub.servicedb import Database

    entries = _entries(directory, args.entries, curated_only=not args.entries)
    if not entries:
        print(f"no entry in {directory} has a curated checksum (sha256:); nothing to verify")
        return 0
    db = None
    if not args.no_record:
        db = Database(db_url, MIGRATIONS)
        db.upgrade()
    cancel = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: cancel.set())
    worst = 0
    try:
        for entry in entries:
            for result in verify_entry(entry, workers=args.workers, journal_dir=args.journal_dir, cancel=cancel,
                                       db=db, by=f"cli:{getpass.getuser()}"):
                check = result.check
                print(f"{entry.id} #{result.position} {result.distribution.title}: {check.state} — {check.detail} "
                      f"({result.seconds:.1f} s, {human_bytes(result.rate)}/s)", flush=True)
                worst = max(worst, 1 if check.state in ALARMS else 0)
    except KeyboardInterrupt:
        print("interrupted: run the same command again to resume where it stopped", file=sys.stderr)
        return 130
    finally:
        if db is not None:
            db.dispose()
    if db is None:
        print("(not recorded: --no-record)")
    return worst


def _checksums(args, directory: Path) -> int:
    from factoryhub.catalogue.integrity import digest_path, human_bytes

    for entry in _entries(directory, args.entries, curated_only=False):
        print(f"# {entry.id}: paste each line into its distribution")
        for position, dist in enumerate(entry.distributions, 1):
            try:
                digest = digest_path(Path(dist.location), workers=args.workers)
            except OSError as err:
                print(f"#   distribution {position} ({dist.location}): cannot be read ({err.strerror or err})")
                continue
            what = f"{digest.files} files" if digest.kind == "directory" else "file"
            print(f"#   distribution {position}, {dist.title} ({what}, {human_bytes(digest.bytes)}):\n"
                  f"    sha256: {digest.sha256}")
    return 0


def main(args) -> int:
    """Run ``factoryhub catalogue ACTION``; 0 when all is as curated, 1 when data changed, 2 on bad input."""
    from factoryhub.catalogue.catalogue import CatalogueUnavailable

    if args.workers < 1:
        print(f"factoryhub catalogue {args.action}: --workers must be at least 1", file=sys.stderr)
        return 2
    try:
        directory, db_url = _where(args)
        if args.action == "checksum":
            return _checksums(args, directory)
        return _verify(args, directory, db_url)
    except (SiteError, ValueError, CatalogueUnavailable) as err:
        print(f"factoryhub catalogue {args.action}: {err}", file=sys.stderr)
        return 2
