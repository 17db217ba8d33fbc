"""Announcements on a real hub (issue 18, point 3): an admin posts; each user reads only what is meant for
them — everyone's, their hub group's, their project's — through the API, the hub's feed and its pages."""
from __future__ import annotations

import datetime as dt
import re

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.harness.announcements import GROUP, SERVICE, announcements_hub, api, post, prepare_audiences
from tests.harness.hub import running_session

pytestmark = pytest.mark.hub


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    with announcements_hub(tmp_path_factory.mktemp("announcements-hub")) as hub:
        hub.audiences = prepare_audiences(hub)
        yield hub


@pytest.fixture(scope="module")
def posted(hub):
    admin, project = hub.audiences["headers"]["admin"], hub.audiences["project"]
    return {"everyone": post(hub, admin, title="Welcome"),
            "group": post(hub, admin, title="GPU users: new drivers", audience="group", group=GROUP),
            "project": post(hub, admin, title="Project storage moves", audience="project", project=project,
                            level="warning"),
            "later": post(hub, admin, title="Not yet",
                          starts_at=(dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat())}


def titles(answer: requests.Response) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [a["title"] for a in answer.json()["announcements"]]


def test_each_user_sees_only_what_is_meant_for_them(hub, posted):
    headers = hub.audiences["headers"]
    current = api(hub, "/announcements/current")
    assert titles(requests.get(current, headers=headers["researcher"], timeout=10)) == \
        ["GPU users: new drivers", "Welcome"]  # a member of the group, in no project
    assert titles(requests.get(current, headers=headers["student"], timeout=10)) == \
        ["Project storage moves", "Welcome"]  # a member of the project, in no group: the warning first
    assert titles(requests.get(current, headers=headers["admin"], timeout=10)) == ["Welcome"]


def test_the_hub_feed_and_pages_show_the_logged_in_users_own(hub, posted):
    researcher, student = hub.login("researcher"), hub.login("student")
    assert titles(researcher.get(f"{hub.url}/hub/announcements", timeout=10)) == ["GPU users: new drivers", "Welcome"]
    assert titles(student.get(f"{hub.url}/hub/announcements", timeout=10)) == ["Project storage moves", "Welcome"]
    assert requests.get(f"{hub.url}/hub/announcements", timeout=10, allow_redirects=False).status_code == 302
    for page in ("/hub/home", "/hub/spawn"):
        shown = researcher.get(f"{hub.url}{page}", timeout=30)
        assert shown.status_code == 200 and 'id="factoryhub-announcements"' in shown.text, page
    login_page = requests.get(f"{hub.url}/hub/login", timeout=10).text
    assert 'id="factoryhub-announcements"' not in login_page  # nobody to announce to yet


def test_joining_a_group_shows_its_announcements(hub, posted):
    headers = hub.audiences["headers"]
    current = api(hub, "/announcements/current")
    assert "GPU users: new drivers" not in titles(requests.get(current, headers=headers["student"], timeout=10))
    joined = requests.post(f"{hub.url}/hub/api/groups/{GROUP}/users", headers=headers["admin"], timeout=10,
                           json={"users": ["student"]})
    assert joined.status_code == 200, joined.text
    try:
        assert "GPU users: new drivers" in titles(requests.get(current, headers=headers["student"], timeout=10))
    finally:
        requests.delete(f"{hub.url}/hub/api/groups/{GROUP}/users", headers=headers["admin"], timeout=10,
                        json={"users": ["student"]})


def test_the_metrics_count_current_announcements_by_level(hub, posted):
    token = (hub.state_dir / "metrics-token").read_text().strip()
    scraped = requests.get(f"{hub.url}{SERVICE}/metrics", headers={"Authorization": f"token {token}"}, timeout=10)
    assert scraped.status_code == 200
    samples = {s.labels["level"]: s.value for family in text_string_to_metric_families(scraped.text)
               for s in family.samples if s.name == "factoryhub_announcements_current"}
    assert samples == {"info": 2, "warning": 1}  # the scheduled one does not count yet


def test_only_the_hub_reads_another_users_announcements(hub, posted):
    headers = hub.audiences["headers"]
    other = requests.get(api(hub, "/announcements/current?user=student"), headers=headers["researcher"], timeout=10)
    assert other.status_code == 403 and "read-any" in other.json()["message"]
    reader = {"Authorization": "token " + (hub.state_dir / "announcements-reader-token").read_text().strip()}
    assert titles(requests.get(api(hub, "/announcements/current?user=student"), headers=reader, timeout=10)) == \
        ["Project storage moves", "Welcome"]
    unnamed = requests.get(api(hub, "/announcements/current"), headers=reader, timeout=10)
    assert unnamed.status_code == 400 and unnamed.json()["field"] == "user"
    assert requests.get(api(hub, "/announcements/current"), timeout=10).status_code == 401


@pytest.mark.parametrize("body, field", [
    ({"title": "t", "text": "x", "ends_at": "2030-01-01T00:00:00Z", "audience": "group"}, "group"),
    ({"title": "t", "text": "x", "ends_at": "2030-01-01T00:00:00Z", "audience": "project", "project": "a b"},
     "project"),
    ({"title": "t", "text": "x", "ends_at": "2020-01-01T00:00:00Z"}, "ends_at"),
    ({"title": "t", "text": "x", "ends_at": "2030-01-01T00:00:00"}, "ends_at"),
    ({"title": "", "text": "x", "ends_at": "2030-01-01T00:00:00Z"}, "title"),
    ({"title": "t", "text": "x", "ends_at": "2030-01-01T00:00:00Z", "level": "critical"}, "level"),
    ({"title": "t", "ends_at": "2030-01-01T00:00:00Z"}, "text"),
])
def test_bad_bodies_are_refused_naming_the_field(hub, body, field):
    answer = requests.post(api(hub, "/announcements"), headers=hub.audiences["headers"]["admin"], json=body,
                           timeout=10)
    assert answer.status_code == 400 and answer.json()["field"] == field, answer.text


def test_only_admins_post_list_and_withdraw(hub, posted):
    headers = hub.audiences["headers"]
    body = {"title": "t", "text": "x", "ends_at": "2030-01-01T00:00:00Z"}
    refused = requests.post(api(hub, "/announcements"), headers=headers["researcher"], json=body, timeout=10)
    assert refused.status_code == 403 and "custom:announcements:admin" in refused.json()["message"]
    assert requests.get(api(hub, "/announcements"), headers=headers["researcher"], timeout=10).status_code == 403
    withdraw = api(hub, f"/announcements/{posted['everyone']['id']}/withdraw")
    assert requests.post(withdraw, headers=headers["researcher"], timeout=10).status_code == 403
    listed = requests.get(api(hub, "/announcements?state=scheduled"), headers=headers["admin"], timeout=10)
    assert [a["title"] for a in listed.json()["announcements"]] == ["Not yet"]
    page = hub.login("admin").get(f"{hub.url}{SERVICE}/", timeout=30)
    assert page.status_code == 200 and "Post an announcement" in page.text and "Project storage moves" in page.text
    assert "Post an announcement" not in hub.login("student").get(f"{hub.url}{SERVICE}/", timeout=30).text


def test_a_withdrawn_announcement_disappears_at_once(hub, posted):
    headers = hub.audiences["headers"]
    made = post(hub, headers["admin"], title="Short-lived")
    current = api(hub, "/announcements/current")
    assert "Short-lived" in titles(requests.get(current, headers=headers["student"], timeout=10))
    withdraw = api(hub, f"/announcements/{made['id']}/withdraw")
    withdrawn = requests.post(withdraw, headers=headers["admin"], timeout=10)
    assert withdrawn.status_code == 200 and withdrawn.json()["state"] == "withdrawn", withdrawn.text
    assert "Short-lived" not in titles(requests.get(current, headers=headers["student"], timeout=10))
    again = requests.post(withdraw, headers=headers["admin"], timeout=10)
    assert again.status_code == 409 and "withdrawn by user:admin already" in again.json()["message"]
    one = requests.get(api(hub, f"/announcements/{made['id']}"), headers=headers["admin"], timeout=10).json()
    assert (one["state"], one["withdrawn_by"]) == ("withdrawn", "user:admin")


def test_a_running_session_gets_its_users_announcements_with_its_own_token(hub, posted):
    researcher = hub.audiences["headers"]["researcher"]
    with running_session(hub, "researcher", researcher):
        lab = requests.get(f"{hub.url}/user/researcher/factoryhub/api/announcements", headers=researcher, timeout=60)
        assert titles(lab) == ["GPU users: new drivers", "Welcome"]  # the session's user's, not the hub's view


def test_an_admin_posts_and_withdraws_on_the_page(hub, posted):
    admin = hub.login("admin")
    page = admin.get(f"{hub.url}{SERVICE}/", timeout=30)
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text).group(1)
    form = {"_xsrf": xsrf, "action": "post", "level": "info", "title": "From the page", "text": "Typed in.",
            "starts_at": "", "ends_at": (dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
            "audience": "project", "group": "", "project": hub.audiences["project"]}
    made = admin.post(f"{hub.url}{SERVICE}/", data=form, timeout=30)
    assert made.status_code == 200 and "posted." in made.text, made.text[-2000:]
    student = hub.audiences["headers"]["student"]
    assert "From the page" in titles(requests.get(api(hub, "/announcements/current"), headers=student, timeout=10))
    refused = admin.post(f"{hub.url}{SERVICE}/", data={**form, "audience": "group"}, timeout=30)
    assert refused.status_code == 400 and "group: required when audience is group" in refused.text
    number = re.search(r"Announcement (\d+) posted", made.text).group(1)
    gone = admin.post(f"{hub.url}{SERVICE}/", data={"_xsrf": xsrf, "action": f"withdraw:{number}"}, timeout=30)
    assert gone.status_code == 200 and f"Announcement {number} withdrawn." in gone.text
    assert "From the page" not in titles(requests.get(api(hub, "/announcements/current"), headers=student,
                                                      timeout=10))
