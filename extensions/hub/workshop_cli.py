"""``factoryhub workshop``: create, list, show and end workshops from a shell, through the
workshops service's REST API with the trainer's own hub token (nothing is done locally)."""
from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from .restclient import RemoteError, RestClient

API = "/services/factoryhub-workshops/api/v1"


def add_parser(sub) -> None:
    """The ``workshop`` verb and its sub-verbs."""
    verb = sub.add_parser("workshop", help="create, list, show and end workshops (as a trainer, with your hub token)")
    verb.add_argument("--hub-url", default=os.environ.get("FACTORYHUB_URL", "http://127.0.0.1:8000"),
                      help="the hub's public address (default: $FACTORYHUB_URL or http://127.0.0.1:8000)")
    verb.add_argument("--token-file", type=Path,
                      help="a file holding your hub API token (default: $JUPYTERHUB_API_TOKEN)")
    actions = verb.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="make a workshop in one action (all or nothing)")
    create.add_argument("id", help="e.g. gpu-intro-2026-12 (lowercase letters, digits, '-')")
    create.add_argument("--title", required=True)
    create.add_argument("--starts-at", required=True, help="ISO time with zone, e.g. 2026-12-10T09:00:00+01:00")
    create.add_argument("--ends-at", required=True)
    create.add_argument("--seats", type=int, required=True)
    create.add_argument("--profile", required=True, help="a workshop profile of the site")
    create.add_argument("--budget-gpu-hours", type=float, required=True)
    create.add_argument("--trainer-account", required=True, help="your project the budget comes from")
    create.add_argument("--course-repo", required=True, help="git URL of the course material")
    create.add_argument("--course-branch", default="main")
    create.add_argument("--nodes", default="", help="Slurm nodes to reserve, e.g. gpu[01-02] (default: none)")
    create.add_argument("--idle-timeout-minutes", type=int)
    actions.add_parser("list", help="your workshops")
    for name, text in (("show", "a workshop with its join links"), ("participants", "participants' sessions"),
                       ("report", "the end-of-workshop report (JSON)"), ("end", "end a workshop now")):
        actions.add_parser(name, help=text).add_argument("id")


def _token(args) -> str:
    if args.token_file:
        return args.token_file.read_text().strip()
    token = os.environ.get("JUPYTERHUB_API_TOKEN", "")
    if not token:
        raise ValueError("no token: give --token-file or set JUPYTERHUB_API_TOKEN (make one at /hub/token)")
    return token


def request_for(args) -> tuple[str, str, dict | None]:
    """(method, path, body) of the API call a command line asks for."""
    if args.action == "create":
        body = {"id": args.id, "title": args.title, "starts_at": args.starts_at, "ends_at": args.ends_at,
                "seats": args.seats, "profile": args.profile, "budget_gpu_hours": args.budget_gpu_hours,
                "trainer_account": args.trainer_account, "course_repo": args.course_repo,
                "course_branch": args.course_branch, "nodes": args.nodes}
        if args.idle_timeout_minutes is not None:
            body["idle_timeout_minutes"] = args.idle_timeout_minutes
        return "POST", "/workshops", body
    if args.action == "list":
        return "GET", "/workshops", None
    suffix = {"show": "", "participants": "/participants", "report": "/report", "end": "/end"}[args.action]
    return ("POST" if args.action == "end" else "GET"), f"/workshops/{args.id}{suffix}", None


def main(args) -> int:
    """Run one workshop command; prints the answer as JSON, or the refusal on stderr."""
    try:
        client = RestClient(args.hub_url.rstrip("/") + API, _token(args), timeout=300)
        method, path, body = request_for(args)
        answer = asyncio.run(client.call(method, path, body))
    except (RemoteError, ValueError, OSError) as err:
        print(f"factoryhub workshop {args.action}: {err}", file=sys.stderr)
        return 1
    print(json.dumps(answer, indent=2))
    return 0
