"""The lab extension's server side in a real session of a real hub (embedded default): it
reaches the quota and catalogue services through the proxy with the session's own token,
reports the same numbers the services report, and never more than the user may see."""
from __future__ import annotations

import time

import pytest
import requests

from tests.harness.hub import HubProcess, register_project, wait_until

pytestmark = pytest.mark.hub


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    with HubProcess(tmp_path_factory.mktemp("lab")) as hub:
        hub.tokens = {name: hub.api_token(name) for name in ("admin", "researcher")}
        register_project(hub, hub.tokens["admin"], ["researcher"], gpu_hours=120)
        researcher = {"Authorization": f"token {hub.tokens['researcher']}"}
        spawned = requests.post(f"{hub.url}/hub/api/users/researcher/server", headers=researcher, timeout=60,
                                json={"user_options": {"profile": "notebook-small", "walltime_hours": 1}})
        assert spawned.status_code in (201, 202), spawned.text
        wait_until(lambda: requests.get(f"{hub.url}/hub/api/users/researcher", headers=researcher, timeout=10)
                   .json()["servers"].get("", {}).get("ready"), 90, "the session")
        hub.spawned_at = time.time()
        yield hub
        requests.delete(f"{hub.url}/hub/api/users/researcher/server", headers=researcher, timeout=30)


def lab(hub, path, method="GET", **kw) -> requests.Response:
    return requests.request(method, f"{hub.url}/user/researcher/factoryhub/api/{path}", timeout=60,
                            headers={"Authorization": f"token {hub.tokens['researcher']}"}, **kw)


def test_the_extension_is_enabled_in_the_session(hub):
    assert lab(hub, "health").json() == {"status": "ok"}
    assert requests.get(f"{hub.url}/user/researcher/factoryhub/api/health", timeout=30).status_code in (302, 403)


def test_the_session_knows_its_walltime_and_price(hub):
    session = lab(hub, "session").json()
    assert abs(session["walltime_end"] - (hub.spawned_at + 3600)) < 120
    assert session["gpus"] == 0 and session["price"] == 1.0 and 3400 < session["remaining_seconds"] <= 3600


def test_the_quota_panel_numbers_are_the_quota_services(hub):
    panel = lab(hub, "quota").json()
    assert "projects" in panel, panel
    service = requests.get(f"{hub.url}/services/factoryhub-quota/api/v1/projects", timeout=30,
                           headers={"Authorization": f"token {hub.tokens['researcher']}"}).json()["projects"]
    fields = ("account", "allocated_gpu_hours", "used_gpu_hours", "held_gpu_hours", "remaining_gpu_hours",
              "burn_gpu_hours_per_day")
    assert [{f: p[f] for f in fields} for p in panel["projects"]] == [{f: p[f] for f in fields} for p in service]
    assert panel["projects"][0]["remaining_gpu_hours"] == 120 and len(panel["projects"][0]["daily_usage"]) == 14


def test_the_catalogue_is_searched_as_the_user(hub):
    found = lab(hub, "catalogue/entries", params={"q": "sensor read"}).json()
    assert found["entries"][0]["id"] == "sensor-readings" and "facets" in found
    open_entry = lab(hub, "catalogue/entries/sensor-readings").json()
    assert open_entry["distributions"][0]["location"].startswith("/srv/")
    assert any("pandas" in d["snippets"] for d in open_entry["snippets"])
    restricted = lab(hub, "catalogue/entries/genomics-variant-calls-cohort")
    assert restricted.status_code == 200 and "location" not in restricted.text
    denied = lab(hub, "catalogue/entries/genomics-variant-calls-cohort/snippets")
    assert denied.status_code == 403 and "request access" in denied.json()["message"]
    refused = lab(hub, "catalogue/entries/genomics-variant-calls-cohort/requests", method="POST",
                  json={"justification": "short", "acknowledge_terms": restricted.json()["terms_sha256"]})
    assert refused.status_code == 400 and refused.json()["field"] == "justification"


def test_the_starter_notebooks_land_in_the_home_once_and_edits_are_kept(hub):
    """The launcher card's call: the packaged notebooks and generators are copied; a second call keeps
    the user's edited copy and only restores what is missing."""
    home = hub.state_dir / "homes" / "researcher" / "factoryhub-starter"
    first = lab(hub, "starter", method="POST")
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["folder"] == "factoryhub-starter" and body["kept"] == []
    assert {"01-cupy-basics.ipynb", "04-scaling-out-with-dask.ipynb", "data/make_sensor_data.py"} <= set(body["copied"])
    (home / "01-cupy-basics.ipynb").write_text('{"cells": [], "edited": true}')
    (home / "data" / "make_sensor_data.py").unlink()
    again = lab(hub, "starter", method="POST").json()
    assert again["copied"] == ["data/make_sensor_data.py"] and "01-cupy-basics.ipynb" in again["kept"]
    assert '"edited": true' in (home / "01-cupy-basics.ipynb").read_text()
    assert requests.post(f"{hub.url}/user/researcher/factoryhub/api/starter", timeout=30).status_code in (302, 403)
