"""A hub with the announcements service on the embedded default, three people and the audiences the
tests target: the group ``gpu-users`` (researcher) and a project (student), for the hub and browser tiers."""
from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path

import requests
import yaml

from tests.harness.hub import REPO, HubProcess, register_project, wait_until

SERVICE = "/services/factoryhub-announcements"
GROUP = "gpu-users"


def announcements_hub(workdir: Path) -> HubProcess:
    """The embedded default with a third account (student) and no cache: a membership counts at once."""
    site = yaml.safe_load((REPO / "extensions/hub/site/default.yaml").read_text())
    site["auth"]["accounts"].append({"name": "student"})
    site["services"] = {"announcements": {"cache_seconds": 0}, "idle_culler": {"enabled": False}}
    (workdir / "site.yaml").write_text(yaml.safe_dump(site))
    return HubProcess(workdir, site_file=workdir / "site.yaml")


def api(hub: HubProcess, path: str) -> str:
    return f"{hub.url}{SERVICE}/api/v1{path}"


def prepare_audiences(hub: HubProcess) -> dict:
    """Tokens of admin, researcher and student; researcher in GROUP, student in a project of its own name."""
    tokens = {name: hub.api_token(name) for name in ("admin", "researcher", "student")}
    headers = {name: {"Authorization": f"token {token}"} for name, token in tokens.items()}
    made = requests.post(f"{hub.url}/hub/api/groups/{GROUP}", headers=headers["admin"], timeout=10,
                         json={"users": ["researcher"]})
    assert made.status_code == 201, made.text
    project = f"proj-ann-{secrets.token_hex(3)}"
    register_project(hub, tokens["admin"], ["student"], 10, account=project)
    wait_until(lambda: requests.get(api(hub, "/health"), timeout=2).status_code == 200, 60, "announcements service")
    return {"headers": headers, "project": project}


def post(hub: HubProcess, admin: dict, **body) -> dict:
    """Post an announcement as an admin (ending in a day unless told), its model."""
    ends = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()
    made = requests.post(api(hub, "/announcements"), headers=admin, timeout=10,
                         json={"text": "details", "ends_at": ends, **body})
    assert made.status_code == 201, made.text
    return made.json()
