"""SME demos in a real browser (issue 17): an owner publishes a Voila dashboard and makes a guest
link; a guest without an account accepts the terms, moves a widget and sees the kernel's answer,
reaches nothing else, and is refused once the link is revoked or has expired (its hub user gone)."""
from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from tests.harness.dashboards import NOTEBOOK, SERVICE, api, dashboards_hub, prepare_home
from tests.harness.hub import REPO, wait_until

pytestmark = pytest.mark.browser
ARTIFACTS = REPO / "test-artifacts"  # kept by CI, as the screenshot fixture's


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    with dashboards_hub(tmp_path_factory.mktemp("dashboards-browser-hub"), link_default_hours=1, link_max_hours=2,
                        guest_terms="Demo data only.\n\nYour visit is logged.") as hub:
        prepare_home(hub.state_dir / "homes" / "researcher")
        yield hub


@pytest.fixture(scope="module")
def tokens(hub):
    return {name: {"Authorization": f"token {hub.api_token(name)}"} for name in ("researcher", "admin")}


def guest_names(hub, tokens) -> set[str]:
    resp = requests.get(api(hub, "/guests"), headers=tokens["admin"], timeout=10)
    resp.raise_for_status()
    return {g["name"] for g in resp.json()["guests"]}


def exists_in_hub(hub, tokens, name: str) -> bool:
    return requests.get(f"{hub.url}/hub/api/users/{name}", headers=tokens["admin"], timeout=10).status_code == 200


@pytest.fixture(scope="module")
def published(hub, tokens, browser):
    """The owner publishes the dashboard on the dashboards page and waits for its server."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(f"{hub.url}/hub/login?next={SERVICE}/")
    page.get_by_label("Username").fill("researcher")
    page.get_by_label("Password").fill(hub.credentials()["researcher"])
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Name (server dash-<name>)").fill("sensors")
    page.get_by_label("Title").fill("Sensor readings")
    page.get_by_label("Notebook (relative to your home)").fill(NOTEBOOK)
    page.get_by_role("button", name="Publish").click()
    expect(page.locator("#fh-message")).to_contain_text("Published Sensor readings")

    def running():
        page.reload()
        return page.locator(".factoryhub-dashboard .dashboard-state").inner_text() == "running"
    wait_until(running, 120, "the dashboard's server running", interval=1)
    yield page
    context.close()


def make_link(page, max_guests: str = "") -> str:
    card = page.locator(".factoryhub-dashboard", has_text="Sensor readings")
    card.get_by_label("Guest limit").fill(max_guests)
    card.get_by_role("button", name="Make a guest link").click()
    return page.locator("#new-link").input_value()


def open_as_guest(browser, link: str):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(link)
    expect(page.locator("#guest-terms")).to_contain_text("Your visit is logged.")
    page.get_by_role("button", name="I accept the terms — open the dashboard").click()
    return context, page


def test_a_guest_moves_a_widget_reaches_nothing_else_and_is_refused_after_revocation(
        hub, tokens, browser, published):
    link = make_link(published, max_guests="1")
    before = guest_names(hub, tokens)
    context, guest = open_as_guest(browser, link)
    try:
        line = guest.locator("select").first
        expect(line).to_be_visible(timeout=120_000)
        table = guest.locator("table").first
        expect(table).to_contain_text("max smoothed vibration")
        first = table.inner_text()
        options = line.locator("option").all_inner_texts()
        line.select_option(options[-1] if options[0] in first else options[0])
        expect(table).not_to_have_text(first, timeout=30_000)  # the kernel answered the widget
        ARTIFACTS.mkdir(exist_ok=True)
        guest.screenshot(path=str(ARTIFACTS / "dashboard-guest.png"))  # what the guest sees
        assert "def prepare(" not in guest.content()  # the code is not shown

        (name,) = guest_names(hub, tokens) - before
        server = f"{hub.url}/user/researcher/dash-sensors"
        for path in ("/lab", "/api/contents", "/api/contents/dashboards", "/terminals/", "/api/kernels",
                     "/api/sessions", "/voila/tree", "/files/data/make_sensor_data.py"):
            status = guest.request.get(server + path, max_redirects=0).status
            assert status in (403, 404), (path, status)
        write = guest.request.put(f"{server}/api/contents/x.ipynb", data="{}", max_redirects=0)
        assert write.status in (403, 404)
        for path in ("/hub/api/users", "/hub/api/users/researcher", f"/hub/api/users/{name}/tokens",
                     "/user/researcher/lab", "/user/admin/", "/services/factoryhub-quota/",
                     "/services/factoryhub-dashboards/", "/services/factoryhub-catalogue/"):
            status = guest.request.get(hub.url + path).status
            assert status in (403, 404), (path, status)
        # the services' APIs know no guest (no token, no login of theirs)
        assert guest.request.get(f"{hub.url}/services/factoryhub-quota/api/v1/projects").status in (401, 403)
        spawn = guest.request.post(f"{hub.url}/hub/api/users/{name}/server", max_redirects=0)
        assert spawn.status in (403, 404)  # a guest starts nothing

        # the link admitted its one guest: the next is told so
        other = browser.new_context()
        refused = other.new_page()
        assert refused.goto(link).status == 409
        expect(refused.locator("#fh-message")).to_contain_text("already admitted its 1 guest,")
        expect(refused.get_by_role("button", name="I accept the terms — open the dashboard")).to_have_count(0)
        other.close()

        links = requests.get(api(hub, "/dashboards/researcher/sensors/links"), headers=tokens["researcher"],
                             timeout=10).json()["links"]
        revoked = requests.delete(api(hub, f"/links/{links[0]['id']}"), headers=tokens["researcher"], timeout=30)
        assert revoked.status_code == 204, revoked.text
        assert not exists_in_hub(hub, tokens, name)
        response = guest.goto(f"{server}/voila/render/{NOTEBOOK}")
        assert response.status in (403, 404) or "/hub/login" in guest.url
        expect(guest.locator("select")).to_have_count(0)
        again = guest.goto(link)
        assert again.status == 410
        expect(guest.locator("#fh-message")).to_contain_text("revoked")
    finally:
        context.close()


def test_an_expired_link_ends_its_guests_and_their_hub_users(hub, tokens, browser, published):
    made = requests.post(api(hub, "/dashboards/researcher/sensors/links"), headers=tokens["researcher"],
                         json={"expires_in_seconds": 60, "label": "one minute"}, timeout=10)
    assert made.status_code == 201, made.text
    before = guest_names(hub, tokens)
    context, guest = open_as_guest(browser, made.json()["url"])
    try:
        expect(guest.locator("select").first).to_be_visible(timeout=120_000)
        (name,) = guest_names(hub, tokens) - before
        assert exists_in_hub(hub, tokens, name)
        wait_until(lambda: not exists_in_hub(hub, tokens, name), 90, "the expired guest deleted from the hub",
                   interval=1)
        response = guest.goto(f"{hub.url}/user/researcher/dash-sensors/voila/render/{NOTEBOOK}")
        assert response.status in (403, 404) or "/hub/login" in guest.url
        refused = guest.goto(made.json()["url"])
        assert refused.status == 410
    finally:
        context.close()


@pytest.mark.parametrize("body, words", [
    ({"name": "bad", "title": "T", "notebook": "../admin/x.ipynb"}, "leaves your home"),
    ({"name": "bad", "title": "T", "notebook": "/etc/passwd"}, "outside your home"),
    ({"name": "bad", "title": "T", "notebook": "data/make_sensor_data.py"}, "is not a notebook"),
])
def test_bad_publications_are_refused_with_a_message(hub, tokens, body, words):
    resp = requests.post(api(hub, "/dashboards"), headers=tokens["researcher"], json=body, timeout=30)
    assert resp.status_code == 400 and words in resp.json()["message"], resp.text


def test_links_beyond_the_maximum_and_for_someone_elses_dashboard_are_refused(hub, tokens, published):
    long = requests.post(api(hub, "/dashboards/researcher/sensors/links"), headers=tokens["researcher"],
                         json={"expires_in_seconds": 3 * 3600}, timeout=10)
    assert long.status_code == 400 and "beyond this site's maximum of 7200 seconds" in long.json()["message"]
    admin_only = {"Authorization": tokens["admin"]["Authorization"]}
    assert requests.post(api(hub, "/dashboards/researcher/sensors/links"), headers=admin_only, json={},
                         timeout=10).status_code == 201  # admins may
    other = requests.post(f"{hub.url}/hub/api/users", headers=tokens["admin"], json={"usernames": ["intruder"]},
                          timeout=10)
    assert other.status_code in (201, 409)
    token = requests.post(f"{hub.url}/hub/api/users/intruder/tokens", headers=tokens["admin"],
                          json={"note": "test"}, timeout=10).json()["token"]
    theirs = requests.post(api(hub, "/dashboards/researcher/sensors/links"), json={},
                           headers={"Authorization": f"token {token}"}, timeout=10)
    assert theirs.status_code == 403 and "is not yours" in theirs.json()["message"]
