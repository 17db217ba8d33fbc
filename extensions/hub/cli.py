"""``factoryhub`` command line: check a site description before starting a hub."""
from __future__ import annotations

import argparse
import json
import sys

from .site import EMBEDDED_DEFAULT, SiteError, load_site
from .site.load import find_site_file


def _check_site(path: str | None) -> int:
    """Validate the named file, or the one the hub would read ($FACTORYHUB_SITE, ./site.yaml, the default)."""
    if path is None:
        found = find_site_file()
        path = str(found) if found is not None else None
        print(f"checking {path or EMBEDDED_DEFAULT} (what the hub would read here: $FACTORYHUB_SITE, "
              "then ./site.yaml, then the embedded default)", file=sys.stderr)
    try:
        loaded = load_site(path)
    except SiteError as err:
        print(err, file=sys.stderr)
        return 1
    site = loaded.site
    print(f"{loaded.source}: OK — {len(site.profiles)} profiles, {len(site.partitions)} partitions, "
          f"sessions: {site.sessions.backend}, auth: {site.auth.kind}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run one ``factoryhub`` verb; the exit code says whether it succeeded."""
    parser = argparse.ArgumentParser(prog="factoryhub", description="FactoryHub site tools")
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check-site", help="validate a site.yaml (without a path: the file the hub would read, "
                           "$FACTORYHUB_SITE, then ./site.yaml, then the embedded default)")
    check.add_argument("path", nargs="?", help="site.yaml to check")
    sub.add_parser("site-reference", help="print the site.yaml reference (docs/site.md)")
    sub.add_parser("site-schema", help="print the JSON Schema of site.yaml (for editors and CI linters)")
    args = parser.parse_args(argv)
    if args.command == "site-reference":
        from .site.reference import render

        print(render(), end="")
        return 0
    if args.command == "site-schema":
        from .site.model import Site

        print(json.dumps(Site.model_json_schema(), indent=2))
        return 0
    return _check_site(args.path)


if __name__ == "__main__":
    sys.exit(main())
