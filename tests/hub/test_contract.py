"""The services' OpenAPI documents against the live services: a property-based contract test.

schemathesis generates requests from each document (examples, boundary values, schema-valid
and schema-violating data, methods the document does not list, requests without a token,
chains of operations along the documents' links) and sends them to the quota, catalogue
and announcements services behind a real hub, as an admin, as an ordinary member and (quota) as the hub's own
session identity. Every check is on: no 5xx, only documented statuses, content types,
headers and bodies, invalid data refused, valid data accepted, 401 without a token, 405 with
``Allow``. Generation is derandomized: a run is reproducible, and a failure names the curl
command that reproduces it.

Rules the documents state in words cannot be written in JSON Schema (one field compared with
another or with the clock, words counted as the search index counts them); the hooks below keep
valid cases valid under them, nothing more.
"""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import requests
import schemathesis
import schemathesis.engine
import yaml
from schemathesis.core.parameters import ParameterLocation
from schemathesis.engine import Status, events

from factoryhub.catalogue.index import MAX_QUERY_WORDS, words
from factoryhub.report_period import MAX_DAYS
from tests.harness.hub import HubProcess, wait_until

pytestmark = pytest.mark.hub

REPO = Path(__file__).resolve().parents[2]
DOCUMENTS = {"quota": REPO / "extensions" / "quota" / "openapi.yaml",
             "catalogue": REPO / "extensions" / "catalogue" / "openapi.yaml",
             "announcements": REPO / "extensions" / "announcements" / "openapi.yaml"}
DEFAULT_SITE = REPO / "extensions" / "hub" / "site" / "default.yaml"
MAX_EXAMPLES = 50
SUPPRESSED = ["too_slow", "filter_too_much", "data_too_large"]


# in this order: the admin makes projects and allocations that the spawner then holds budget of; a
# member asks for restricted entries that the admin (a data steward) then decides
IDENTITIES = {"quota": ("admin", "researcher", "sessions"), "catalogue": ("researcher", "admin"),
              "announcements": ("admin", "researcher")}
READY_PATHS = {"quota": "projects", "catalogue": "entries", "announcements": "announcements/current"}


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    """One hub with both services; no Slurm (its commands are absent: imports answer 503)."""
    workdir = tmp_path_factory.mktemp("contract")
    catalogue = workdir / "catalogue"
    shutil.copytree(REPO / "extensions" / "catalogue" / "example", catalogue)
    (workdir / "no-slurm").mkdir()
    site = yaml.safe_load(DEFAULT_SITE.read_text())
    site["slurm"] = {"bin_dir": str(workdir / "no-slurm")}
    site["services"] = {"idle_culler": {"enabled": False},
                        "catalogue": {"directory": str(catalogue), "public_export": True, "reload_every_seconds": 0}}
    (workdir / "site.yaml").write_text(yaml.safe_dump(site))
    with HubProcess(workdir, site_file=workdir / "site.yaml") as hub:
        hub.tokens = {name: hub.api_token(name) for name in ("admin", "researcher")}
        hub.tokens["sessions"] = (hub.state_dir / "quota-sessions-token").read_text().strip()  # the spawner's
        for service, who in [(service, who) for service, whom in IDENTITIES.items() for who in whom]:
            path = READY_PATHS[service]
            wait_until(lambda: requests.get(f"{api(hub, service)}/health", timeout=2).status_code == 200, 60,
                       f"the {service} service")
            resp = requests.get(f"{api(hub, service)}/{path}", timeout=30,
                                headers={"Authorization": f"token {hub.tokens[who]}"})
            assert resp.status_code == 200, f"{who}'s token does not reach {service}: {resp.text}"
        yield hub


def api(hub, service: str) -> str:
    return f"{hub.url}/services/factoryhub-{service}/api/v1"


def positive(case, location: ParameterLocation) -> bool:
    return case.meta is None or not case.meta.is_negative_at(location)


def keep_rules_in_words(context, case):
    """Valid cases stay valid under the rules the documents state in words only."""
    label = context.operation.label
    if label == "POST /projects/{account}/allocations" and positive(case, ParameterLocation.BODY) \
            and isinstance(case.body, dict):
        try:
            starts, ends = dt.date.fromisoformat(case.body["starts_on"]), dt.date.fromisoformat(case.body["ends_on"])
        except (KeyError, TypeError, ValueError):
            return case
        if ends < starts:  # "ends_on: not before starts_on"
            case.body = {**case.body, "starts_on": ends.isoformat(), "ends_on": starts.isoformat()}
    if label == "PUT /projects/{account}/ai-act" and positive(case, ParameterLocation.BODY) \
            and isinstance(case.body, dict):
        case.body = one_ai_act_record(case.body, (case.path_parameters or {}).get("account"))
    if label == "GET /entries" and positive(case, ParameterLocation.QUERY) and isinstance(case.query, dict) \
            and isinstance(case.query.get("q"), str):
        q = case.query["q"]
        while len(words(q)) > MAX_QUERY_WORDS:  # "at most 20 words"
            q = q[:len(q) // 2]
        case.query = {**case.query, "q": q}
    if label == "GET /reports/kpi" and positive(case, ParameterLocation.QUERY) and isinstance(case.query, dict):
        case.query = one_period(case.query)
    if label == "POST /announcements" and positive(case, ParameterLocation.BODY) and isinstance(case.body, dict):
        # "group with audience group only, project with project only"; "ends_at: in the future, after starts_at"
        body = {k: v for k, v in case.body.items() if k != "starts_at"}
        for key in ("group", "project"):
            if body.get("audience") == key:
                body[key] = body.get(key) or f"contract-{key}"
            else:
                body.pop(key, None)
        body["ends_at"] = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()
        case.body = body
    return case


def one_ai_act_record(body: dict, account) -> dict:
    """"answers along the questionnaire's path", "assessment computed", "project: the path's account",
    "datasets and model names distinct", "a model's datasets among the record's"."""
    body = {k: v for k, v in body.items() if k not in ("answers", "assessment", "project")}
    if isinstance(account, str):
        body["project"] = account
    for key, name in (("datasets", "entry_id"), ("models", "name")):
        if isinstance(body.get(key), list):
            kept = {}
            for item in body[key]:
                if isinstance(item, dict) and isinstance(item.get(name), str):
                    kept.setdefault(item[name].strip(), item)
            body[key] = list(kept.values())
    if isinstance(body.get("models"), list):
        body["models"] = [{**model, "datasets": []} for model in body["models"]]
    return body


def one_period(query: dict) -> dict:
    """"month, or since and until together", "until not before since", "at most three years"."""
    query = dict(query)
    if "month" in query:
        return {k: v for k, v in query.items() if k not in ("since", "until")}
    if "since" not in query and "until" not in query:
        return query
    try:
        days = sorted(dt.date.fromisoformat(query.get(k) or query.get("since") or query["until"])
                      for k in ("since", "until"))
    except (TypeError, ValueError):
        return query
    since, until = days[0], min(days[1], days[0] + dt.timedelta(days=MAX_DAYS - 1))
    return {**query, "since": since.isoformat(), "until": until.isoformat()}


def document(hub, service: str, who: str):
    """The service's document aimed at the live service with ``who``'s token (schemathesis leaves
    it out where a case tests its absence), every check and phase on."""
    config = schemathesis.Config.from_dict({
        "base-url": api(hub, service),
        "headers": {"Authorization": f"token {hub.tokens[who]}"},
        "suppress-health-check": SUPPRESSED,
        "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
        "checks": {"enabled": True, "max_response_time": 10},
        "phases": {"stateful": {"max-steps": 6}},
        # the hub under test has no Slurm: importing accounting answers the documented 503
        "operations": [{"include-operation-id": "importAccounting",
                        "checks": {"not_a_server_error": {"expected-statuses": ["2xx", "3xx", "4xx", "503"]}}}],
    })
    schema = schemathesis.openapi.from_path(DOCUMENTS[service], config=config)
    schema.hook("map_case")(keep_rules_in_words)
    return schema


def describe(failure_info) -> str:
    failure = failure_info.failure
    return f"{failure.operation}: {failure.code} {failure.title}\n{failure.message}\n{failure_info.code_sample}"


@pytest.mark.parametrize("service, who", [(service, who) for service, whom in IDENTITIES.items() for who in whom])
def test_the_service_answers_as_its_document_says(hub, service, who):
    """schemathesis's engine, as ``st run --checks all`` runs it: examples, boundary values
    (coverage), valid and invalid data (fuzzing), then chains along the document's links
    (stateful; a replay that the service's changed state makes diverge is retried, not
    reported). Every check of every answer must pass."""
    failures, errors, answered = {}, [], set()
    for event in schemathesis.engine.from_schema(document(hub, service, who)).execute():
        if isinstance(event, events.ScenarioFinished):
            answered |= {i.response.status_code for i in event.recorder.interactions.values() if i.response}
            for nodes in event.recorder.checks.values():
                for node in nodes:
                    if node.status is Status.FAILURE and node.failure_info is not None:
                        failure = node.failure_info.failure
                        failures.setdefault((failure.operation, failure.code, failure.message),
                                            describe(node.failure_info))
        elif isinstance(event, events.NonFatalError):
            errors.append(f"{event.label}: {event.info.title}: {event.info}")
        elif isinstance(event, events.FatalError):
            errors.append(repr(event.exception))
    assert not errors and not failures, "\n\n".join(errors + list(failures.values()))
    assert any(status < 300 for status in answered), f"no request got through as {who}: {sorted(answered)}"


def test_an_access_requests_life_answers_as_the_document_says(hub):
    """The generator seldom holds a restricted entry's terms digest: one request's whole life,
    each answer validated against the document (status, content type, headers, body)."""
    schema = schemathesis.openapi.from_path(DOCUMENTS["catalogue"])
    spec = yaml.safe_load(DOCUMENTS["catalogue"].read_text())

    def call(who, method, template, expected, **values):
        path = template.format(**values.pop("path", {}))
        resp = requests.request(method, f"{api(hub, 'catalogue')}{path}", timeout=30,
                                headers={"Authorization": f"token {hub.tokens[who]}"}, **values)
        assert resp.status_code == expected, resp.text
        assert str(expected) in spec["paths"][template][method.lower()]["responses"], (method, template, expected)
        schema[template][method].validate_response(resp)  # content type, headers, body
        return resp.json()

    restricted = call("researcher", "GET", "/entries", 200, params={"access": "restricted"})["entries"]
    first, second = ({"entry_id": e["id"]} for e in restricted[:2])
    why = {"justification": "Replicating a published risk score for our cohort study."}
    requests_made = []
    for entry in (first, second):
        terms = call("researcher", "GET", "/entries/{entry_id}", 200, path=entry)["terms_sha256"]
        body = {**why, "acknowledge_terms": terms}
        requests_made.append(call("researcher", "POST", "/entries/{entry_id}/requests", 201, path=entry, json=body))
        call("researcher", "POST", "/entries/{entry_id}/requests", 409, path=entry, json=body)
    decided, withdrawn = ({"request_id": r["id"]} for r in requests_made)
    mine = {r["id"] for r in call("researcher", "GET", "/requests", 200)["requests"]}
    assert mine >= {r["id"] for r in requests_made}
    call("researcher", "POST", "/requests/{request_id}/withdraw", 200, path=withdrawn)
    call("researcher", "POST", "/requests/{request_id}/withdraw", 409, path=withdrawn)
    call("admin", "POST", "/requests/{request_id}/decision", 400, path=decided, json={"decision": "reject"})
    call("admin", "POST", "/requests/{request_id}/decision", 200, path=decided,
         json={"decision": "reject", "note": "The cohort's consent does not cover this."})
    call("admin", "POST", "/requests/{request_id}/decision", 409, path=decided, json={"decision": "approve"})
    call("admin", "GET", "/requests", 200, params={"all": "1", "state": "rejected"})
    call("admin", "GET", "/audit", 200)
