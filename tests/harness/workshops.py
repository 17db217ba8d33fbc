"""What the workshop tests share: the site's workshop settings, the service's API and a pool login."""
from __future__ import annotations

import datetime as dt
import re
import secrets

import requests

POOL = tuple(f"train{n:02d}" for n in range(1, 9))
TRAINERS = ("tina", "tom")
SERVICE = "/services/factoryhub-workshops"


def workshops_site(site: dict) -> None:
    """Edit a cluster site: two trainers with local logins, the pool accounts, homes cleaned at the end."""
    site["auth"]["accounts"] += [{"name": name} for name in TRAINERS]
    site["services"]["workshops"] = {"trainers": list(TRAINERS), "pool_accounts": list(POOL),
                                     "pool_home_policy": "clean", "expire_every_seconds": 2}


def call(hub, who, method, path, **kw) -> requests.Response:
    """The workshops API as ``who`` (a name in hub.tokens; None: no token)."""
    headers = {"Authorization": f"token {hub.tokens[who]}"} if who else {}
    return requests.request(method, f"{hub.url}{SERVICE}/api/v1/{path}", headers=headers, timeout=300, **kw)


def workshop_body(cluster, course, **changes) -> dict:
    """A workshop starting now for three hours, ten seats of the site's 'workshop' profile, on the node."""
    now = dt.datetime.now(dt.UTC)
    return {"id": f"gpu-intro-{secrets.token_hex(3)}", "title": "Introduction to GPU computing",
            "starts_at": now.isoformat(), "ends_at": (now + dt.timedelta(hours=3)).isoformat(), "seats": 10,
            "profile": "workshop", "budget_gpu_hours": 12, "trainer_account": "proj-training",
            "course_repo": course.url, "nodes": cluster.node, **changes}


def post_pool_login(hub, username, password) -> requests.Response:
    """The hub's workshop login page, posted as a browser does (its xsrf token first)."""
    session = requests.Session()
    page = session.get(f"{hub.url}/hub/workshop-login", timeout=10)
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text).group(1)
    resp = session.post(f"{hub.url}/hub/workshop-login", data={"_xsrf": xsrf, "username": username,
                                                               "password": password}, timeout=30,
                        allow_redirects=False)
    resp.session = session
    return resp


def end_leftover_reservations(cluster) -> None:
    """A failed test must not leave the node reserved for a training account."""
    listing = cluster.run("scontrol", "--oneliner", "show", "reservation", check=False).stdout
    for name in re.findall(r"ReservationName=(ws-\S+)", listing):
        cluster.run("scontrol", "delete", f"ReservationName={name}", check=False)
