"""The catalogue service behind a real hub: who receives which locations (search, details,
snippets, export), access requests decided by a steward through the hub's groups, the audit
trail, reloads, hostile input and escaping."""
from __future__ import annotations

import json
import re
import shutil
from html import escape as html_escape
from pathlib import Path

import pytest
import requests
import yaml

from tests.harness.hub import HubProcess, wait_until

pytestmark = pytest.mark.hub

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "extensions" / "catalogue" / "example"
DEFAULT_SITE = REPO / "extensions" / "hub" / "site" / "default.yaml"
MARKUP = "<script>alert('owned')</script>"
RESTRICTED = "genomics-variant-calls-cohort"


def locations(directory: Path, access: set[str]) -> set[str]:
    found = set()
    for path in directory.glob("*.yaml"):
        entry = yaml.safe_load(path.read_text())
        if entry["access"] in access:
            found |= {d["location"] for d in entry["distributions"]}
    return found


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("catalogue")
    catalogue = workdir / "catalogue"
    shutil.copytree(EXAMPLE, catalogue)
    markup = yaml.safe_load((catalogue / "sensor-readings.yaml").read_text())
    markup.update(title=f"Sensor {MARKUP} readings", description=f"Readings with markup {MARKUP} in the text.")
    (catalogue / "markup-entry.yaml").write_text(yaml.safe_dump(markup))
    site = yaml.safe_load(DEFAULT_SITE.read_text())
    site["auth"]["accounts"] += [{"name": "steward"}, {"name": "outsider"}]
    site["services"] = {"quota": {"enabled": False}, "idle_culler": {"enabled": False},
                        "catalogue": {"directory": str(catalogue), "stewards": ["steward"], "public_export": True,
                                      "reload_every_seconds": 1}}
    (workdir / "site.yaml").write_text(yaml.safe_dump(site))
    with HubProcess(workdir, site_file=workdir / "site.yaml") as hub:
        hub.api = f"{hub.url}/services/factoryhub-catalogue/api/v1"
        hub.dir = catalogue
        hub.tokens = {name: hub.api_token(name) for name in ("admin", "researcher", "steward", "outsider")}
        wait_until(lambda: requests.get(f"{hub.api}/health", timeout=2).status_code == 200, 60, "catalogue service")
        yield hub


def call(hub, who, method, path, **kw) -> requests.Response:
    headers = {"Authorization": f"token {hub.tokens[who]}"} if who else {}
    return requests.request(method, f"{hub.api}/{path}", headers=headers, timeout=30, **kw)


def everything_seen_by(hub, who) -> str:
    """Every answer a user can get about every entry, as one text."""
    texts = [call(hub, who, "GET", "entries?limit=100").text, call(hub, who, "GET", "catalogue.jsonld").text]
    for entry in call(hub, who, "GET", "entries?limit=100").json()["entries"]:
        texts.append(call(hub, who, "GET", f"entries/{entry['id']}").text)
        texts.append(call(hub, who, "GET", f"entries/{entry['id']}/snippets").text)
    for q in ("genomics", "cohort", "srv", "factoryhub"):
        texts.append(call(hub, who, "GET", "entries", params={"q": q}).text)
    return "\n".join(texts)


def test_search_finds_entries_with_facets(hub):
    found = call(hub, "researcher", "GET", "entries", params={"q": "sentence embed"}).json()
    assert found["entries"][0]["id"] == "all-minilm-l6-v2"
    models = call(hub, "researcher", "GET", "entries", params={"kind": "model"}).json()
    assert models["total"] == 2 and models["facets"]["kind"] == {"model": 2}
    assert set(call(hub, "researcher", "GET", "entries").json()["facets"]["access"]) == \
        {"open", "registered", "restricted"}


def test_a_user_outside_the_group_never_receives_a_restricted_location(hub):
    seen = everything_seen_by(hub, "outsider")
    hidden = locations(hub.dir, {"restricted"})
    assert hidden and not [loc for loc in hidden if loc in seen or loc.replace("/", "%2F") in seen]
    assert all(loc in seen for loc in locations(hub.dir, {"open", "registered"}))
    denied = call(hub, "outsider", "GET", f"entries/{RESTRICTED}/snippets")
    assert denied.status_code == 403 and "request access" in denied.json()["message"]
    public = requests.get(f"{hub.api}/public/catalogue.jsonld", timeout=30).text
    assert RESTRICTED in public  # listed, with how to ask for it
    assert not [loc for loc in locations(hub.dir, {"restricted", "registered"}) if loc in public]


def test_access_is_requested_with_acknowledged_terms_and_decided_by_a_steward(hub):
    entry = call(hub, "researcher", "GET", f"entries/{RESTRICTED}").json()
    assert entry["requestable"] and "GDPR" in entry["terms"]
    assert "location" not in entry["distributions"][0]
    ask = {"justification": "Polygenic risk score replication for our cardiology project.",
           "acknowledge_terms": entry["terms_sha256"]}
    for body, status, field in [({**ask, "justification": "because"}, 400, "justification"),
                                ({**ask, "acknowledge_terms": "0" * 64}, 409, "acknowledge_terms"),
                                ({**ask, "acknowledge_terms": "yes"}, 400, "acknowledge_terms"),
                                ({**ask, "admin": True}, 400, "admin")]:
        resp = call(hub, "researcher", "POST", f"entries/{RESTRICTED}/requests", json=body)
        assert (resp.status_code, resp.json()["field"]) == (status, field), resp.text
    assert call(hub, "researcher", "POST", f"entries/{RESTRICTED}/requests", data=b"{nope").status_code == 400
    assert call(hub, "researcher", "GET", "requests").json()["requests"] == []  # nothing half-written
    created = call(hub, "researcher", "POST", f"entries/{RESTRICTED}/requests", json=ask)
    assert created.status_code == 201 and created.json()["state"] == "pending"
    again = call(hub, "researcher", "POST", f"entries/{RESTRICTED}/requests", json=ask)
    assert again.status_code == 409 and "still waiting" in again.json()["message"]

    request_id = created.json()["id"]
    assert call(hub, "researcher", "POST", f"requests/{request_id}/decision",
                json={"decision": "approve"}).status_code == 403
    assert call(hub, "researcher", "GET", "requests?all=1").status_code == 403
    decided = call(hub, "steward", "POST", f"requests/{request_id}/decision", json={"decision": "approve"})
    assert decided.status_code == 200 and decided.json()["state"] == "approved", decided.text
    assert call(hub, "steward", "POST", f"requests/{request_id}/decision",
                json={"decision": "reject", "note": "changed my mind"}).status_code == 409

    group = requests.get(f"{hub.url}/hub/api/groups/genomics-consortium", timeout=10,
                         headers={"Authorization": f"token {hub.tokens['admin']}"}).json()
    assert "researcher" in group["users"], group
    now = call(hub, "researcher", "GET", f"entries/{RESTRICTED}").json()
    assert now["usable"] and now["distributions"][0]["location"].startswith("/srv/")
    assert "pandas" in json.dumps(call(hub, "researcher", "GET", f"entries/{RESTRICTED}/snippets").json())
    assert now["distributions"][0]["location"] in call(hub, "researcher", "GET", "catalogue.jsonld").text
    assert now["distributions"][0]["location"] not in everything_seen_by(hub, "outsider")

    trail = call(hub, "steward", "GET", "audit").json()["entries"]
    steps = [(a["action"], a["actor"], a["username"]) for a in trail if a["request_id"] == request_id]
    assert steps == [("approve", "user:steward", "researcher"), ("request", "user:researcher", "researcher")]
    assert call(hub, "researcher", "GET", "audit").status_code == 403


def test_a_rejection_needs_a_reason_and_grants_nothing(hub):
    entry = call(hub, "outsider", "GET", "entries/hospital-chest-xray-cohort").json()
    created = call(hub, "outsider", "POST", "entries/hospital-chest-xray-cohort/requests",
                   json={"justification": "Training a pneumonia classifier for a start-up demo.",
                         "acknowledge_terms": entry["terms_sha256"]}).json()
    bare = call(hub, "steward", "POST", f"requests/{created['id']}/decision", json={"decision": "reject"})
    assert bare.status_code == 400 and bare.json()["field"] == "note"
    resp = call(hub, "steward", "POST", f"requests/{created['id']}/decision",
                json={"decision": "reject", "note": "Commercial use is outside the consent."})
    assert resp.status_code == 200 and resp.json()["state"] == "rejected"
    mine = call(hub, "outsider", "GET", "requests").json()["requests"]
    assert [(r["state"], r["decision_note"]) for r in mine] == [("rejected", "Commercial use is outside the consent.")]
    assert not call(hub, "outsider", "GET", "entries/hospital-chest-xray-cohort").json()["usable"]


@pytest.mark.parametrize("params, field", [({"q": "x" * 5000}, "q"), ({"q": " ".join(["w"] * 40)}, "q"),
                                           ({"limit": "1000"}, "limit"), ({"offset": "-1"}, "offset")])
def test_hostile_search_input_gets_a_clear_error(hub, params, field):
    resp = call(hub, "outsider", "GET", "entries", params=params)
    assert resp.status_code == 400 and resp.json()["field"] == field, resp.text


@pytest.mark.parametrize("method, path, status", [
    ("GET", "entries/%C3%A9t%C3%A9", 404),            # matches no route: the catch-all's JSON 404
    ("POST", "requests/-1/withdraw", 404),
    ("GET", "entries?usable=AAA", 400),                # not in the enumeration
    ("GET", "entries?kind=table", 400),
    ("GET", "requests?all=1&all=1", 400),              # a parameter given twice
    ("GET", "audit?before=" + "9" * 30, 400),          # beyond any id: no 500
])
def test_every_error_is_the_documented_json(hub, method, path, status):
    resp = call(hub, "steward", method, path)
    assert resp.status_code == status, resp.text
    assert resp.headers["Content-Type"] == "application/json" and resp.json()["status"] == status


def test_unicode_and_markup_queries_are_just_text(hub):
    assert call(hub, "outsider", "GET", "entries", params={"q": "Météo ☃ 気象"}).status_code == 200
    found = call(hub, "outsider", "GET", "entries", params={"q": "<script>alert"}).json()
    assert [e["id"] for e in found["entries"]] == ["markup-entry"]
    assert call(hub, None, "GET", "entries").status_code == 401


def test_pages_escape_entry_text_and_stewards_decide_there(hub):
    session = hub.login("outsider")
    page = session.get(f"{hub.url}/services/factoryhub-catalogue/?q=markup", timeout=30)
    assert page.status_code == 200 and page.url.endswith("/services/factoryhub-catalogue/?q=markup")
    html = page.content.decode()
    assert MARKUP not in html and html_escape(MARKUP) in html
    for offset in ("%C2%B2", "9" * 30, "-1"):  # a Unicode digit, a huge number: the first page, not a 500
        assert session.get(f"{hub.url}/services/factoryhub-catalogue/?offset={offset}", timeout=30).status_code == 200
    detail = session.get(f"{hub.url}/services/factoryhub-catalogue/entries/markup-entry", timeout=30).content.decode()
    assert MARKUP not in detail and "&lt;script&gt;" in detail
    assert session.get(f"{hub.url}/services/factoryhub-catalogue/steward", timeout=30).status_code == 403

    form = session.get(f"{hub.url}/services/factoryhub-catalogue/entries/synthetic-card-transactions",
                       timeout=30).content.decode()
    token = re.search(r'name="_xsrf" value="([^"]+)"', form).group(1)
    digest = re.search(r'name="terms_sha256" value="([0-9a-f]+)"', form).group(1)
    unticked = session.post(f"{hub.url}/services/factoryhub-catalogue/entries/synthetic-card-transactions",
                            data={"_xsrf": token, "justification": "Fraud model benchmarking for our SME.",
                                  "terms_sha256": digest}, timeout=30)
    assert unticked.status_code == 400 and "acknowledge the terms" in unticked.content.decode()
    sent = session.post(f"{hub.url}/services/factoryhub-catalogue/entries/synthetic-card-transactions",
                        data={"_xsrf": token, "justification": "Fraud model benchmarking for our SME.",
                              "terms_sha256": digest, "acknowledge": "yes"}, timeout=30)
    assert sent.status_code == 201 and "was sent to the data stewards" in sent.content.decode()

    steward = hub.login("steward")
    desk = steward.get(f"{hub.url}/services/factoryhub-catalogue/steward", timeout=30).content.decode()
    request_id = re.search(r'data-request="(\d+)"', desk).group(1)
    assert "Fraud model benchmarking for our SME." in desk
    token = re.search(r'name="_xsrf" value="([^"]+)"', desk).group(1)
    done = steward.post(f"{hub.url}/services/factoryhub-catalogue/steward/requests/{request_id}",
                        data={"_xsrf": token, "decision": "approve"}, timeout=30)
    assert done.status_code == 200 and ": approved." in done.content.decode()
    assert call(hub, "outsider", "GET", "entries/synthetic-card-transactions").json()["usable"]


def test_a_broken_file_is_reported_and_the_last_good_version_keeps_serving(hub):
    def status():
        return call(hub, "steward", "GET", "status").json()

    good = (hub.dir / "energy-load-hourly-eu.yaml").read_text()
    (hub.dir / "energy-load-hourly-eu.yaml").write_text(good.replace("distributions:", "distributions: 12\nx:"))
    (hub.dir / "new-entry.yaml").write_text("title: [unclosed")
    try:
        wait_until(lambda: status()["stale"] == ["energy-load-hourly-eu"], 30, "the reload")
        problems = {p["file"].rsplit("/", 1)[-1]: p for p in status()["problems"]}
        assert "not valid YAML" in problems["new-entry.yaml"]["reason"]
        assert set(problems) == {"new-entry.yaml", "energy-load-hourly-eu.yaml"}
        assert call(hub, "outsider", "GET", "entries/energy-load-hourly-eu").status_code == 200
        assert isinstance(call(hub, "outsider", "GET", "status").json()["problems"], int)  # details for stewards
    finally:
        (hub.dir / "energy-load-hourly-eu.yaml").write_text(good)
        (hub.dir / "new-entry.yaml").unlink()
    wait_until(lambda: status()["problems"] == [] and status()["stale"] == [], 30, "the repaired catalogue")
