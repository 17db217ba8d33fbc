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
