"""``factoryhub`` command line: check a site description before starting a hub."""
from __future__ import annotations

import argparse
import sys

from .site import SiteError, load_site


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="factoryhub", description="FactoryHub site tools")
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check-site", help="validate a site.yaml (the embedded default when none is given)")
    check.add_argument("path", nargs="?", help="site.yaml to check")
    sub.add_parser("site-reference", help="print the site.yaml reference (docs/site.md)")
    args = parser.parse_args(argv)
    if args.command == "site-reference":
        from .site.reference import render

        print(render(), end="")
        return 0
    try:
        loaded = load_site(args.path)
    except SiteError as err:
        print(err, file=sys.stderr)
        return 1
    site = loaded.site
    print(f"{loaded.source}: OK — {len(site.profiles)} profiles, {len(site.partitions)} partitions, "
          f"sessions: {site.sessions.backend}, auth: {site.auth.kind}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
