"""A hub with the dashboards service on the embedded default, an owner's home with the sensor
dashboard, and a guest's way in (what a browser sends), for the hub tier, the browser tier and
benchmarks/dashboard_guests.py."""
from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import requests
import yaml

from tests.harness.hub import REPO, HubProcess, wait_until

SERVICE = "/services/factoryhub-dashboards"
NOTEBOOK = "dashboards/sensor-preparation.ipynb"


def dashboards_hub(workdir: Path, **settings) -> HubProcess:
    """The embedded default with ``services.dashboards`` set to ``settings`` (guests looked at every second)."""
    site = yaml.safe_load((REPO / "extensions/hub/site/default.yaml").read_text())
    site["services"] = {"dashboards": {"expire_every_seconds": 1, **settings}}
    (workdir / "site.yaml").write_text(yaml.safe_dump(site))
    return HubProcess(workdir, site_file=workdir / "site.yaml")


def prepare_home(home: Path) -> None:
    """The sensor dashboard and its data generator in an owner's home, the data made beforehand."""
    (home / "dashboards").mkdir(parents=True, exist_ok=True)
    (home / "data").mkdir(exist_ok=True)
    shutil.copy(REPO / "notebooks" / NOTEBOOK, home / NOTEBOOK)
    shutil.copy(REPO / "notebooks/data/make_sensor_data.py", home / "data")
    sys.path.insert(0, str(home / "data"))
    try:
        from make_sensor_data import SCALES, generate
        generate(home / "dashboards/outputs/dashboards/sensor-readings-ci", **SCALES["ci"])
    finally:
        sys.path.remove(str(home / "data"))
        sys.modules.pop("make_sensor_data", None)


def api(hub: HubProcess, path: str) -> str:
    return f"{hub.url}{SERVICE}/api/v1{path}"


def publish(hub: HubProcess, owner: dict, name: str, notebook: str = NOTEBOOK) -> dict:
    """Publish through the API with the ``owner`` headers and wait for the server; its model."""
    made = requests.post(api(hub, "/dashboards"), headers=owner, timeout=60,
                         json={"name": name, "title": f"Sensors {name}", "notebook": notebook})
    assert made.status_code == 201, made.text

    def running():
        found = requests.get(api(hub, f"/dashboards/researcher/{name}"), headers=owner, timeout=10).json()
        return found["state"] == "running" and found
    return wait_until(running, 120, f"dashboard {name} running", interval=0.5)


def enter_as_guest(link: str) -> tuple[requests.Session, requests.Response]:
    """The terms page, then accepting them with its xsrf field, following every redirect (the hub's
    guest login, the server's OAuth) to the dashboard's page."""
    guest = requests.Session()
    terms = guest.get(link, timeout=30)
    if terms.status_code != 200:
        return guest, terms
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', terms.text).group(1)
    return guest, guest.post(link, data={"_xsrf": xsrf, "accept": "yes"}, timeout=300)
