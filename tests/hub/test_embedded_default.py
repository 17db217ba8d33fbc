"""The embedded default, end to end: a real hub, proxy and JupyterLab process."""
from __future__ import annotations

import re
import subprocess
import sys

import jinja2
import pytest
import requests

from factoryhub.hubconfig import TEMPLATES
from tests.harness.hub import REPO, HubProcess, wait_until

pytestmark = pytest.mark.hub


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    with HubProcess(tmp_path_factory.mktemp("embedded")) as hub:
        yield hub


def server_of(session: requests.Session, hub: HubProcess, user: str) -> dict | None:
    return session.get(f"{hub.url}/hub/api/users/{user}", timeout=10).json()["servers"].get("")


def test_login_page_says_local_only(hub):
    page = requests.get(f"{hub.url}/hub/login", timeout=10).text
    assert 'id="factoryhub-local-notice"' in page
    assert "this machine only" in page


def test_every_hub_page_shows_the_site_name(hub):
    """site.yaml's `name` (the embedded default's: "FactoryHub (local development)") in the title
    and the navigation bar of JupyterHub's own pages: login, home, spawn and an error page."""
    name = "FactoryHub (local development)"
    session = hub.login("researcher")
    pages = {"login": requests.get(f"{hub.url}/hub/login", timeout=10),
             "home": session.get(f"{hub.url}/hub/home", timeout=10),
             "spawn": session.get(f"{hub.url}/hub/spawn", timeout=10),
             "error": session.get(f"{hub.url}/hub/no-such-page", timeout=10)}
    assert pages["error"].status_code == 404
    for what, resp in pages.items():
        page = resp.content.decode("utf-8")  # the hub sends no charset: requests would guess Latin-1
        assert re.search(rf"<title>\s*{re.escape(name)} — JupyterHub\s*</title>", page), what
        assert f'<span class="navbar-brand" id="factoryhub-site-name">{name}</span>' in page, what
        assert 'id="jupyterhub-logo"' in page, what  # JupyterHub's own navbar, extended, not replaced


def test_the_site_name_is_escaped_and_optional():
    """The template as JupyterHub loads it (its own templates under the "templates/" prefix, autoescape on)."""
    env = jinja2.Environment(autoescape=True, loader=jinja2.ChoiceLoader([
        jinja2.FileSystemLoader(str(TEMPLATES)),
        jinja2.PrefixLoader({"templates": jinja2.FileSystemLoader(jupyterhub_templates())})]))
    page = env.get_template("page.html").render(factoryhub_site_name="<b>Lab & Co</b>", base_url="/hub/",
                                                static_url=lambda path, **_: path)
    assert "&lt;b&gt;Lab &amp; Co&lt;/b&gt;</span>" in page and "<b>Lab" not in page
    plain = env.get_template("page.html").render(base_url="/hub/", static_url=lambda path, **_: path)
    assert 'id="factoryhub-site-name"' not in plain and re.search(r"<title>\s*JupyterHub\s*</title>", plain)


def jupyterhub_templates() -> str:
    """Where JupyterHub's own templates are installed (JupyterHub.template_paths' default)."""
    from jupyterhub.app import JupyterHub
    return JupyterHub().template_paths[-1]


def test_listens_on_loopback_only(hub):
    out = subprocess.run(["ss", "-Hltn"], capture_output=True, text=True).stdout
    listening = [line.split()[3] for line in out.splitlines() if line.split()[3].endswith(f":{hub.port}")]
    assert listening == [f"127.0.0.1:{hub.port}"]


def test_wrong_password_is_refused(hub):
    session = requests.Session()
    session.get(f"{hub.url}/hub/login", timeout=10)
    resp = session.post(f"{hub.url}/hub/login", allow_redirects=False, timeout=10,
                        data={"_xsrf": session.cookies["_xsrf"], "username": "researcher", "password": "guess"})
    assert resp.status_code == 403


def test_spawn_form_offers_the_profiles(hub):
    page = hub.login("researcher").get(f"{hub.url}/hub/spawn", timeout=10).text
    assert page.count('class="list-group-item factoryhub-profile"') == 2
    assert 'value="notebook-small" checked' in page


def test_log_in_spawn_reach_and_stop(hub):
    session = hub.login("researcher")
    resp = session.post(f"{hub.url}/hub/spawn", timeout=30,
                        data={"_xsrf": session.cookies["_xsrf"], "profile": "notebook-large", "walltime_hours": "3"})
    assert resp.status_code == 200
    wait_until(lambda: (server_of(session, hub, "researcher") or {}).get("ready"), 60, "server ready")
    server = server_of(session, hub, "researcher")
    assert server["user_options"] == {"profile": ["notebook-large"], "walltime_hours": ["3"]}

    lab = session.get(f"{hub.url}/user/researcher/lab", timeout=60)  # OAuth hand-off, as a browser does
    assert lab.status_code == 200 and lab.url.endswith("/user/researcher/lab")
    status = session.get(f"{hub.url}/user/researcher/api/status", timeout=30)
    assert status.status_code == 200 and "kernels" in status.json()
    me = session.get(f"{hub.url}/user/researcher/api/me", timeout=30)
    assert me.status_code == 200 and me.json()["identity"]["name"] == "researcher"

    resp = session.delete(f"{hub.url}/hub/api/users/researcher/server", timeout=30)
    assert resp.status_code in (202, 204)
    wait_until(lambda: server_of(session, hub, "researcher") is None, 30, "server stopped")
    assert session.get(f"{hub.url}/user/researcher/api/status", timeout=10, allow_redirects=False).status_code != 200


def test_api_spawn_with_bad_options_is_refused_with_the_field(hub):
    token = hub.api_token("researcher")
    headers = {"Authorization": f"token {token}"}
    for options, fragment in [({"profile": "gpu-everything"}, "Profile (profile): 'gpu-everything' is not offered"),
                              ({"walltime_hours": 99},
                               "Walltime (hours) (walltime_hours): must be more than 0 and at most 8 hours"),
                              ({"cmd": ["/bin/sh"]}, "cmd: unknown option")]:
        resp = requests.post(f"{hub.url}/hub/api/users/researcher/server", json={"user_options": options},
                             headers=headers, timeout=30)
        assert resp.status_code == 400, resp.text
        assert fragment in resp.json()["message"]
    user = requests.get(f"{hub.url}/hub/api/users/researcher", headers=headers, timeout=10).json()
    assert user["servers"] == {}


def test_broken_site_file_stops_the_hub_with_one_line_per_problem(tmp_path):
    site = tmp_path / "site.yaml"
    site.write_text("hub: {bind_url: ftp://x}\nauth: {kind: local, accounts: []}\n"
                    "partitions: [{name: gpu, max_walltime_hours: 1}]\n"
                    "profiles: [{id: a, title: A, partition: cpu}]\n")
    hub = HubProcess(tmp_path, site_file=site)
    proc = hub.launch()
    assert proc.wait(60) != 0
    log = hub.log_path.read_text()
    assert "Traceback" not in log
    problems = [line for line in log.splitlines() if line.startswith(f"{site}: ")]
    assert len(problems) == 2, log
    assert any("hub.bind_url: 'ftp://x' is not allowed — must be an http:// or https:// URL" in p for p in problems)
    assert any("auth.accounts: [] is not allowed" in p for p in problems)
    assert not any("profiles" in p for p in problems)  # cross-checks wait for a well-formed file


def test_check_site_command_agrees():
    out = subprocess.run([sys.executable, "-m", "factoryhub.cli", "check-site", str(REPO / "site.example.yaml")],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
