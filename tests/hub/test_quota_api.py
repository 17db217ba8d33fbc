"""The quota service's REST API behind a real hub (embedded default): who may read and
write what, validation, errors as the document says them, the audit log, CSV export, holds
settled at the session's charge."""
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
        hub.tokens["sessions"] = (hub.state_dir / "quota-sessions-token").read_text().strip()  # the spawner's
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
    anonymous = call(hub, None, "GET", "projects")
    assert anonymous.status_code == 401 and anonymous.headers["WWW-Authenticate"].startswith("token")
    assert anonymous.json()["message"].startswith("authentication required")
    assert call(hub, None, "POST", "projects", json=PROJECT).status_code == 401  # no XSRF 403 first


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


@pytest.mark.parametrize("method, path, status", [
    ("GET", "audit?before=" + "9" * 30, 400),           # a number beyond any id: no 500
    ("GET", "audit?before=%C2%B2", 400),                # a Unicode digit is no digit
    ("GET", "audit?before=1&before=2", 400),            # a parameter given twice
    ("GET", "projects?all=AAA", 400),                   # not in the enumeration
    ("GET", "projects?offset=1070357150170", 400),      # beyond the documented maximum
    ("GET", "projects/%C3%A9t%C3%A9", 404),             # no route: the JSON 404 of the catch-all
    ("POST", "holds/-34/close", 404),
    ("GET", "no/such/thing", 404),
    ("PATCH", "projects/proj-climate", 400),            # a required body left out
])
def test_every_error_is_the_documented_json(hub, climate, method, path, status):
    resp = call(hub, "admin", method, path)
    assert resp.status_code == status, resp.text
    assert resp.headers["Content-Type"] == "application/json" and resp.json()["status"] == status


@pytest.mark.parametrize("who, method, path, allowed", [
    ("admin", "DELETE", "projects", "GET, POST"),
    (None, "TRACE", "health", "GET"),
    ("admin", "GET", "projects/proj-climate/members/alice", "PUT, DELETE"),
])
def test_a_method_an_operation_lacks_is_a_405_naming_the_allowed_ones(hub, climate, who, method, path, allowed):
    resp = call(hub, who, method, path)
    assert resp.status_code == 405 and resp.headers["Allow"] == allowed, resp.text
    assert resp.json()["status"] == 405


def test_a_hold_closed_with_the_sessions_charge_counts_only_that(hub, climate):
    """A session stops: its hold counts what the spawner says it cost, not the whole reservation,
    until accounting imports the job."""
    def remaining():
        return call(hub, "admin", "GET", "projects/proj-climate").json()["remaining_gpu_hours"]

    before = remaining()
    held = call(hub, "sessions", "POST", "holds", json={"account": "proj-climate", "username": "researcher",
                                                         "gpus": 2, "walltime_hours": 4})
    assert held.status_code == 201 and held.json()["cost_gpu_hours"] == 8, held.text
    hold = held.json()["hold_id"]
    assert remaining() == pytest.approx(before - 8)
    assert call(hub, "sessions", "POST", f"holds/{hold}/job", json={"job_id": "4242"}).json()["linked"]
    closed = call(hub, "sessions", "POST", f"holds/{hold}/close", json={"ran": True, "charged_gpu_hours": 0.25})
    assert closed.status_code == 200 and closed.json() == {"hold_id": hold, "closed": True}
    assert remaining() == pytest.approx(before - 0.25)  # at once, not after the next import
    again = call(hub, "sessions", "POST", f"holds/{hold}/close", json={"ran": True, "charged_gpu_hours": 5})
    assert again.json()["closed"] is False and remaining() == pytest.approx(before - 0.25)
    assert call(hub, "sessions", "POST", "holds/999999/close", json={"ran": True}).status_code == 404
    assert call(hub, "sessions", "POST", f"holds/{hold}/close",
                json={"ran": True, "charged_gpu_hours": -1}).json()["field"] == "charged_gpu_hours"
    assert call(hub, "researcher", "POST", f"holds/{hold}/close", json={"ran": True}).status_code == 403


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
