"""``factoryhub`` command line: check a site description before starting a hub."""
from __future__ import annotations

import argparse
import json
import sys

from .site import EMBEDDED_DEFAULT, SiteError, load_site
from .site.load import find_site_file


def _site_path() -> str | None:
    found = find_site_file()
    return str(found) if found is not None else None


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


def _print_deploy_file(args) -> int:
    from . import deploy

    try:
        if args.command == "sudoers":
            text = deploy.sudoers(args.service_user, args.users_group, args.slurm_bin_dir)
        else:
            text = deploy.systemd_unit(args.service_user, args.config_file, args.site_file, args.state_dir,
                                       args.python)
    except ValueError as err:
        print(f"factoryhub {args.command}: {err}", file=sys.stderr)
        return 2
    print(text, end="")
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
    rule = sub.add_parser("sudoers", help="print the sudoers drop-in for the hub's service user (docs/admin.md)")
    rule.add_argument("--service-user", default="factoryhub", help="the Unix user the hub runs as")
    rule.add_argument("--users-group", default="factoryhub-users",
                      help="Unix group of the people who may run sessions")
    rule.add_argument("--slurm-bin-dir", default="/usr/bin", help="where sbatch and scancel are")
    unit = sub.add_parser("systemd-unit", help="print the systemd unit running the hub (docs/admin.md)")
    unit.add_argument("--service-user", default="factoryhub", help="the Unix user the hub runs as")
    unit.add_argument("--config-file", default="/etc/factoryhub/jupyterhub_config.py")
    unit.add_argument("--site-file", default="/etc/factoryhub/site.yaml")
    unit.add_argument("--state-dir", default="/var/lib/factoryhub", help="the site's hub.state_dir")
    unit.add_argument("--python", default="/opt/factoryhub/hub-env/bin/python", help="the hub environment's Python")
    doctor = sub.add_parser("doctor", help="check a live install end to end, one line per check with its fix "
                            "(run it as the hub's service user)")
    doctor.add_argument("path", nargs="?", help="site.yaml (default: what the hub would read)")
    doctor.add_argument("--test-user", help="a member of the users group to submit short test jobs as")
    doctor.add_argument("--users-group", default="factoryhub-users", help="the group the sudoers rule names")
    doctor.add_argument("--hub-connect-url", help="the hub API address jobs use (default: from the site)")
    from . import catalogue_cli, workshop_cli

    workshop_cli.add_parser(sub)
    catalogue_cli.add_parser(sub)
    args = parser.parse_args(argv)
    if args.command == "workshop":
        return workshop_cli.main(args)
    if args.command == "catalogue":
        return catalogue_cli.main(args)
    if args.command == "doctor":
        from .doctor import Options
        from .doctor import main as doctor_main

        return doctor_main(Options(args.path or _site_path(), args.test_user, args.users_group, args.hub_connect_url))
    if args.command in ("sudoers", "systemd-unit"):
        return _print_deploy_file(args)
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
