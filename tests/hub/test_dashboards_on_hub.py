"""Dashboards on a real hub (issue 17), as a program sees them: ten guests at once each get their
own kernel, the link's guest limit refuses the eleventh, the server's viewer cap asks one more
viewer to come back later, and a dashboard server serves nothing but its dashboard."""
from __future__ import annotations

import concurrent.futures
import re

import pytest
import requests

from tests.harness.dashboards import NOTEBOOK, SERVICE, api, dashboards_hub, enter_as_guest, prepare_home, publish
from tests.harness.hub import wait_until

pytestmark = pytest.mark.hub
GUESTS = 10


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    with dashboards_hub(tmp_path_factory.mktemp("dashboards-hub"), max_viewers_per_dashboard=GUESTS) as hub:
        prepare_home(hub.state_dir / "homes" / "researcher")
        hub.owner = {"Authorization": f"token {hub.api_token('researcher')}"}
        yield hub


def kernel_id(page: str) -> str:
    return re.search(r'"kernelId"\s*:\s*"([0-9a-f-]{36})"', page).group(1)


def test_ten_guests_at_once_get_a_kernel_each_and_the_eleventh_is_refused(hub):
    publish(hub, hub.owner, "crowd")
    link = requests.post(api(hub, "/dashboards/researcher/crowd/links"), headers=hub.owner, timeout=10,
                         json={"max_guests": GUESTS, "label": "load"}).json()["url"]
    with concurrent.futures.ThreadPoolExecutor(GUESTS) as pool:
        answers = list(pool.map(lambda _: enter_as_guest(link)[1], range(GUESTS)))
    assert [a.status_code for a in answers] == [200] * GUESTS, [a.text[:300] for a in answers if a.status_code != 200]
    assert all("application/vnd.jupyter.widget-view+json" in a.text for a in answers)
    assert len({kernel_id(a.text) for a in answers}) == GUESTS  # one kernel per viewer: no shared widget state

    _, eleventh = enter_as_guest(link)
    assert eleventh.status_code == 409 and f"already admitted its {GUESTS} guests" in eleventh.text

    # the server runs at most GUESTS kernels: one more viewer (the owner) is asked to come back
    owner = hub.login("researcher")
    crowded = owner.get(f"{hub.url}/user/researcher/dash-crowd/voila/render/{NOTEBOOK}", timeout=60)
    assert crowded.status_code == 429 and "viewers" in crowded.text

    listed = requests.get(api(hub, "/guests"), headers=hub.owner, timeout=10).json()["guests"]
    assert sum(g["dashboard"] == "researcher/crowd" for g in listed) == GUESTS
    admin_page = hub.login("admin").get(f"{hub.url}{SERVICE}/admin", timeout=30)
    assert admin_page.status_code == 200 and admin_page.text.count("researcher/crowd") >= GUESTS
    assert "guest.admitted" in admin_page.text and "link.refused" in admin_page.text  # the access log
    assert owner.get(f"{hub.url}{SERVICE}/admin", timeout=30).status_code == 403
    assert requests.delete(api(hub, "/dashboards/researcher/crowd"), headers=hub.owner, timeout=120).status_code == 204
    assert not [g for g in requests.get(api(hub, "/guests"), headers=hub.owner, timeout=10).json()["guests"]
                if g["dashboard"] == "researcher/crowd"]


def test_a_dashboard_server_serves_only_its_dashboard_even_to_its_owner(hub):
    publish(hub, hub.owner, "locked")
    owner = hub.login("researcher")
    server = f"{hub.url}/user/researcher/dash-locked"
    assert owner.get(f"{server}/voila/render/{NOTEBOOK}", timeout=120).status_code == 200
    for path in ("/lab", "/tree", "/api/contents", "/api/kernels", "/api/sessions", "/api/terminals", "/terminals/1",
                 "/api/kernelspecs", "/voila/tree", "/voila/render/data/other.ipynb", "/files/data/make_sensor_data.py",
                 "/nbconvert/html/" + NOTEBOOK, "/edit/" + NOTEBOOK):
        assert owner.get(server + path, timeout=30).status_code == 404, path
    xsrf = owner.cookies.get("_xsrf", path="/user/researcher/dash-locked/") or ""
    assert owner.put(f"{server}/api/contents/new.ipynb", json={"type": "notebook"}, timeout=30,
                     headers={"X-XSRFToken": xsrf}).status_code in (403, 404)
    assert owner.post(f"{server}/api/kernels", json={}, timeout=30,
                      headers={"X-XSRFToken": xsrf}).status_code in (403, 404)
    requests.delete(api(hub, "/dashboards/researcher/locked"), headers=hub.owner, timeout=120)


def test_the_hub_refuses_a_lab_on_a_dash_server_and_a_dashboard_elsewhere(hub):
    lab = requests.post(f"{hub.url}/hub/api/users/researcher/servers/dash-sneaky", headers=hub.owner, timeout=30,
                        json={"user_options": {"profile": "notebook-small"}})
    assert lab.status_code == 400 and "shows a dashboard" in lab.text
    elsewhere = requests.post(f"{hub.url}/hub/api/users/researcher/server", headers=hub.owner, timeout=30,
                              json={"user_options": {"dashboard": NOTEBOOK}})
    assert elsewhere.status_code == 400 and "only servers named dash-" in elsewhere.text


def test_a_colleague_given_access_by_name_opens_it_with_their_own_login_until_it_is_taken_back(hub):
    publish(hub, hub.owner, "shared")
    admin = {"Authorization": f"token {hub.api_token('admin')}"}
    assert requests.post(f"{hub.url}/hub/api/users/colleague", headers=admin, timeout=10).status_code in (201, 409)
    token = requests.post(f"{hub.url}/hub/api/users/colleague/tokens", headers=admin, json={"note": "test"},
                          timeout=10).json()["token"]
    colleague = {"Authorization": f"token {token}"}
    page = f"{hub.url}/user/researcher/dash-shared/voila/render/{NOTEBOOK}"
    assert requests.get(page, headers=colleague, timeout=120, allow_redirects=False).status_code in (302, 403)
    shared = requests.post(api(hub, "/dashboards/researcher/shared/shares"), headers=hub.owner,
                           json={"user": "colleague"}, timeout=30)
    assert shared.status_code == 201 and shared.json()["shared_with"] == [{"user": "colleague"}], shared.text
    assert requests.get(page, headers=colleague, timeout=120).status_code == 200
    nobody = requests.post(api(hub, "/dashboards/researcher/shared/shares"), headers=hub.owner,
                           json={"user": "nobody-here"}, timeout=30)
    assert nobody.status_code == 400 and "no user nobody-here" in nobody.json()["message"]
    gone = requests.delete(api(hub, "/dashboards/researcher/shared/shares?user=colleague"), headers=hub.owner,
                           timeout=30)
    assert gone.status_code == 204
    assert requests.get(page, headers=colleague, timeout=120, allow_redirects=False).status_code in (302, 403)
    requests.delete(api(hub, "/dashboards/researcher/shared"), headers=hub.owner, timeout=120)


def test_a_dashboard_nobody_looks_at_stops_itself(tmp_path):
    """idle_stop_minutes: 1 — the server has no viewer and ends itself; the hub sees it stopped and the
    dashboard stays published (its owner starts it again from the page)."""
    with dashboards_hub(tmp_path, idle_stop_minutes=1) as quiet:
        prepare_home(quiet.state_dir / "homes" / "researcher")
        owner = {"Authorization": f"token {quiet.api_token('researcher')}"}
        publish(quiet, owner, "quiet")

        def state():
            return requests.get(api(quiet, "/dashboards/researcher/quiet"), headers=owner, timeout=10).json()["state"]
        wait_until(lambda: state() == "stopped", 240, "the idle dashboard server stopped", interval=2)
        restarted = requests.post(api(quiet, "/dashboards/researcher/quiet/start"), headers=owner, timeout=60)
        assert restarted.status_code == 202, restarted.text
        wait_until(lambda: state() == "running", 120, "the dashboard server running again", interval=1)
