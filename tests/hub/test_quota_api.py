"""The quota service's REST API behind a real hub (embedded default): who may read and
write what, validation, the audit log, CSV export."""
from __future__ import annotations

import pytest
import requests

from tests.harness.hub import HubProcess, wait_until

pytestmark = pytest.mark.hub

PROJECT = {"account": "proj-climate", "title": "Climate downscaling", "track": "exploratory",
           "sector": "research", "contact": "pi@uni.example", "members": ["researcher"]}


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    with HubProcess(tmp_path_factory.mktemp("quota")) as hub:
        hub.quota = f"{hub.url}/services/factoryhub-quota/api/v1"
        hub.tokens = {name: hub.api_token(name) for name in ("admin", "researcher")}
        wait_until(lambda: requests.get(f"{hub.quota}/health", timeout=2).status_code == 200, 60, "quota service")
        yield hub


def call(hub, who, method, path, **kw) -> requests.Response:
    headers = {"Authorization": f"token {hub.tokens[who]}"} if who else {}
    return requests.request(method, f"{hub.quota}/{path}", headers=headers, timeout=30, **kw)


@pytest.fixture(scope="module")
def climate(hub):
    resp = call(hub, "admin", "POST", "projects", json=PROJECT)
    assert resp.status_code == 201, resp.text
    resp = call(hub, "admin", "POST", "projects/proj-climate/allocations",
                json={"gpu_hours": 100, "starts_on": "2026-01-01", "ends_on": "2030-12-31", "notes": "call 2026-1"})
    assert resp.status_code == 201, resp.text
    return resp.json()


def test_a_member_reads_their_project_with_its_balance(hub, climate):
    [project] = call(hub, "researcher", "GET", "projects").json()["projects"]
    assert project["account"] == "proj-climate" and project["members"] == ["researcher"]
    assert (project["allocated_gpu_hours"], project["used_gpu_hours"], project["held_gpu_hours"],
            project["remaining_gpu_hours"]) == (100, 0, 0, 100)
    detail = call(hub, "researcher", "GET", "projects/proj-climate?days=7").json()
    assert len(detail["daily_usage"]) == 7 and detail["burn_gpu_hours_per_day"] == 0


def test_nobody_reads_or_writes_without_the_right(hub, climate):
    assert call(hub, "admin", "POST", "projects", json={**PROJECT, "account": "sme-visionai",
                                                           "members": []}).status_code == 201
    denied = call(hub, "researcher", "GET", "projects/sme-visionai")
    assert denied.status_code == 403 and "not a member of project sme-visionai" in denied.json()["message"]
    assert call(hub, "researcher", "GET", "projects/sme-visionai/usage.csv").status_code == 403
    assert [p["account"] for p in call(hub, "researcher", "GET", "projects?all=1").json()["projects"]] == \
        ["proj-climate"]  # ?all=1 needs custom:quota:read
    write = call(hub, "researcher", "POST", "projects/proj-climate/allocations",
                 json={"gpu_hours": 10**6, "starts_on": "2026-01-01", "ends_on": "2026-12-31"})
    assert write.status_code == 403 and "custom:quota:admin" in write.json()["message"]
    assert call(hub, "researcher", "PATCH", f"allocations/{climate['id']}", json={"gpu_hours": 1}).status_code == 403
    assert call(hub, None, "GET", "projects").status_code == 403


@pytest.mark.parametrize("body, field", [
    ({"gpu_hours": -5, "starts_on": "2026-01-01", "ends_on": "2026-12-31"}, "gpu_hours"),
    ({"gpu_hours": "lots", "starts_on": "2026-01-01", "ends_on": "2026-12-31"}, "gpu_hours"),
    ({"gpu_hours": 5, "starts_on": "2026-12-31", "ends_on": "2026-01-01"}, "body"),
    ({"gpu_hours": 5, "starts_on": "yesterday", "ends_on": "2026-01-01"}, "starts_on"),
    ({"gpu_hours": 5, "starts_on": "2026-01-01"}, "ends_on"),
    ({"gpu_hours": 5, "starts_on": "2026-01-01", "ends_on": "2026-12-31", "grant_admin": True}, "grant_admin"),
])
def test_bad_allocation_bodies_name_the_field_and_write_nothing(hub, climate, body, field):
    before = call(hub, "admin", "GET", "projects/proj-climate").json()["allocations"]
    resp = call(hub, "admin", "POST", "projects/proj-climate/allocations", json=body)
    assert resp.status_code == 400, resp.text
    assert resp.json()["field"] == field or (field == "body" and "ends_on must not be before" in resp.json()["message"])
    assert call(hub, "admin", "GET", "projects/proj-climate").json()["allocations"] == before


def test_a_project_with_a_bad_member_is_not_half_created(hub):
    resp = call(hub, "admin", "POST", "projects", json={**PROJECT, "account": "proj-half",
                                                          "members": ["ok", "Bad Name;rm"]})
    assert resp.status_code == 400 and resp.json()["field"] == "members.1"
    assert call(hub, "admin", "GET", "projects/proj-half").status_code == 404
    assert call(hub, "admin", "POST", "projects", data=b"{not json").status_code == 400
    dup = call(hub, "admin", "POST", "projects", json=PROJECT)
    assert dup.status_code == 409 and dup.json()["field"] == "account"


def test_every_admin_change_is_in_the_audit_log(hub, climate):
    resp = call(hub, "admin", "PATCH", f"allocations/{climate['id']}", json={"gpu_hours": 150})
    assert resp.status_code == 200 and resp.json()["gpu_hours"] == 150
    assert call(hub, "admin", "PUT", "projects/proj-climate/members/alice").status_code == 200
    entries = call(hub, "admin", "GET", "audit").json()["entries"]
    latest = entries[0]
    assert latest["actor"] == "user:admin" and latest["action"] == "add-member"
    change = next(e for e in entries if e["entity"] == "allocation" and e["action"] == "update")
    assert (change["before"]["gpu_hours"], change["after"]["gpu_hours"]) == (100, 150)
    assert {("create", "project", "proj-climate"), ("create", "allocation", str(climate["id"]))} <= \
        {(e["action"], e["entity"], e["entity_id"]) for e in entries}
    assert call(hub, "researcher", "GET", "audit").status_code == 403


def test_usage_csv_has_a_header_and_a_download_name(hub, climate):
    resp = call(hub, "researcher", "GET", "projects/proj-climate/usage.csv")
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/csv")
    assert 'filename="proj-climate-usage.csv"' in resp.headers["Content-Disposition"]
    assert resp.text.splitlines()[0].startswith("cluster,job_id,account,username")


# --- pages (browsers log in through the hub: HubOAuth) ------------------------------------

def page_session(hub, who) -> requests.Session:
    session = hub.login(who)
    resp = session.get(f"{hub.url}/services/factoryhub-quota/", timeout=30)  # OAuth round trip through the hub
    assert resp.status_code == 200 and resp.url.endswith("/services/factoryhub-quota/"), resp.url
    return session


def xsrf(session, hub, path) -> str:
    import re
    page = session.get(f"{hub.url}/services/factoryhub-quota/{path}", timeout=30).text
    return re.search(r'name="_xsrf" value="([^"]+)"', page).group(1)


def test_a_member_sees_their_balances_read_only(hub, climate):
    session = page_session(hub, "researcher")
    page = session.get(f"{hub.url}/services/factoryhub-quota/", timeout=30).content.decode()
    assert 'data-account="proj-climate"' in page and "sme-visionai" not in page
    assert "Manage allocations" not in page and "<form" not in page
    denied = session.get(f"{hub.url}/services/factoryhub-quota/admin", timeout=30)
    assert denied.status_code == 403


def test_admin_pages_create_and_refuse_with_the_reason(hub, climate):
    session = page_session(hub, "admin")
    admin_page = session.get(f"{hub.url}/services/factoryhub-quota/admin", timeout=30).content.decode()
    assert 'data-account="proj-climate"' in admin_page and 'id="fh-audit"' in admin_page
    token = xsrf(session, hub, "admin")
    bad = session.post(f"{hub.url}/services/factoryhub-quota/admin/projects", timeout=30,
                       data={"_xsrf": token, "account": "bad account!", "title": "x", "track": "scaling",
                             "sector": "sme"})
    assert bad.status_code == 400 and "Not created — account:" in bad.content.decode()
    assert 'value="x"' in bad.content.decode()  # what the admin typed is kept
    good = session.post(f"{hub.url}/services/factoryhub-quota/admin/projects", timeout=30,
                        data={"_xsrf": token, "account": "sme-robotics", "title": "Robotics SME", "track": "scaling",
                              "sector": "sme", "members": "researcher, admin"})
    assert good.status_code == 200 and good.url.endswith("/admin/projects/sme-robotics?created=1")
    assert "Project created." in good.content.decode()
    refused = session.post(f"{hub.url}/services/factoryhub-quota/admin/projects/sme-robotics/allocations", timeout=30,
                           data={"_xsrf": token, "gpu_hours": "50", "starts_on": "2026-12-31",
                                 "ends_on": "2026-01-01"})
    assert refused.status_code == 400 and "ends_on must not be before starts_on" in refused.content.decode()
    assert call(hub, "admin", "GET", "projects/sme-robotics").json()["allocations"] == []
    no_xsrf = session.post(f"{hub.url}/services/factoryhub-quota/admin/projects", timeout=30,
                           data={"account": "sme-x", "title": "x"})
    assert no_xsrf.status_code == 403
    assert call(hub, "admin", "GET", "projects/sme-x").status_code == 404
