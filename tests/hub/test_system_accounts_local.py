"""The embedded default (local sessions) refuses sessions for system accounts however their hub
user came to exist, and its login refuses them even with a password."""
from __future__ import annotations

import pytest
import requests

from tests.harness.hub import HubProcess

pytestmark = pytest.mark.hub


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    with HubProcess(tmp_path_factory.mktemp("embedded-system-accounts")) as hub:
        hub.admin = {"Authorization": f"token {hub.api_token('admin')}"}
        yield hub


@pytest.mark.parametrize("name", ["root", "daemon", "nobody"])
def test_a_system_account_made_through_the_admin_api_cannot_start_a_local_session(hub, name):
    made = requests.post(f"{hub.url}/hub/api/users/{name}", headers=hub.admin, timeout=30)
    assert made.status_code == 201, made.text
    resp = requests.post(f"{hub.url}/hub/api/users/{name}/server", headers=hub.admin, timeout=60,
                         json={"user_options": {"profile": "notebook-small"}})
    assert resp.status_code == 403, resp.text
    assert "Sessions never run as system accounts" in resp.json()["message"]
    user = requests.get(f"{hub.url}/hub/api/users/{name}", headers=hub.admin, timeout=30).json()
    assert user["servers"] == {}
    assert not (hub.state_dir / "homes" / name).exists()  # no process was started for it
    requests.delete(f"{hub.url}/hub/api/users/{name}", headers=hub.admin, timeout=30)


def test_a_personal_account_still_starts_its_session(hub):
    made = requests.post(f"{hub.url}/hub/api/users/researcher", headers=hub.admin, timeout=30)
    assert made.status_code in (201, 409), made.text
    resp = requests.post(f"{hub.url}/hub/api/users/researcher/server", headers=hub.admin, timeout=120,
                         json={"user_options": {"profile": "notebook-small"}})
    assert resp.status_code in (201, 202), resp.text
    requests.delete(f"{hub.url}/hub/api/users/researcher/server", headers=hub.admin, timeout=60)
