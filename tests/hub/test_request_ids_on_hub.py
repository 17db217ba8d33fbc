"""hub.log_format json behind a real hub: errors from the hub and from its services carry a request id
in the body and in X-Request-Id, the same id is on the log line of that request, every line the hub
and its services write is JSON, a client's sane id is kept and an insane one replaced."""
from __future__ import annotations

import json

import pytest
import requests
import yaml

from factoryhub.request_logs import HEADER, valid_request_id
from tests.harness.hub import REPO, HubProcess, wait_until

pytestmark = pytest.mark.hub

FIELDS = {"time", "level", "logger", "message"}


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("request-ids")
    site = yaml.safe_load((REPO / "extensions" / "hub" / "site" / "default.yaml").read_text())
    site["hub"]["log_format"] = "json"
    site["services"] = {"idle_culler": {"every_seconds": 10}}  # it writes JSON too
    (workdir / "site.yaml").write_text(yaml.safe_dump(site))
    with HubProcess(workdir, site_file=workdir / "site.yaml") as hub:
        hub.tokens = {name: hub.api_token(name) for name in ("admin", "researcher")}
        hub.quota = f"{hub.url}/services/factoryhub-quota/api/v1"
        wait_until(lambda: requests.get(f"{hub.quota}/health", timeout=2).status_code == 200, 60, "quota service")
        yield hub


def get(hub, url, who="admin", **headers) -> requests.Response:
    return requests.get(url, headers={"Authorization": f"token {hub.tokens[who]}", **headers}, timeout=30)


def log_lines(hub) -> list[dict]:
    """The log's JSON lines; every other line must be the local accounts' notice (printed before logging
    starts, local development only) or configurable-http-proxy's (a program of its own, in its format)."""
    text = hub.log_path.read_text()
    notice, _, rest = text.partition("local-credentials.json)\n")
    assert notice.startswith("FactoryHub local accounts"), notice[:200]
    lines, in_proxy_output = [], False
    for line in rest.splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
            in_proxy_output = False
        elif "[ConfigProxy]" in line:
            in_proxy_output = True  # its error reports run over several lines
        else:
            assert in_proxy_output, f"a log line that is not JSON: {line!r}"
    assert lines and all(FIELDS <= set(line) for line in lines)
    return lines


def logged(hub, rid: str) -> list[dict]:
    """The JSON log lines of request ``rid`` (written once the answer went out: waited for)."""
    return wait_until(lambda: [line for line in log_lines(hub) if line.get("request_id") == rid], 10,
                      f"log lines of request {rid}")


def test_a_hub_api_error_names_its_request_and_its_log_line_too(hub):
    response = get(hub, f"{hub.url}/hub/api/users/nobody-here")
    rid = response.headers[HEADER]
    assert response.status_code == 404 and valid_request_id(rid)
    assert response.json()["request_id"] == rid
    access = [line for line in logged(hub, rid) if line.get("path") == "/hub/api/users/nobody-here"]
    assert len(access) == 1 and access[0]["status"] == 404 and access[0]["method"] == "GET"
    assert access[0]["user"] == "admin" and access[0]["level"] == "warning" and access[0]["duration_ms"] >= 0


def test_a_service_api_error_names_its_request_and_its_log_line_too(hub):
    response = get(hub, f"{hub.quota}/projects?limit=0", who="researcher")
    rid = response.headers[HEADER]
    body = response.json()
    assert response.status_code == 400 and body["field"] == "limit" and body["request_id"] == rid
    access = [line for line in logged(hub, rid) if line.get("status") == 400]
    assert len(access) == 1 and access[0]["path"] == "/services/factoryhub-quota/api/v1/projects"
    assert access[0]["user"] == "researcher" and access[0]["logger"] == "tornado.access"
    assert "limit=0" not in json.dumps(access[0]["path"])  # the path, never the query (tokens travel there)


def test_a_clients_sane_id_is_kept_and_an_insane_one_replaced_by_hub_and_service(hub):
    for url in (f"{hub.url}/hub/api/users/nobody-here", f"{hub.quota}/no-such-path"):
        kept = get(hub, url, **{HEADER: "ticket-4711.a_b"})
        assert kept.status_code == 404 and kept.headers[HEADER] == "ticket-4711.a_b"
        assert kept.json()["request_id"] == "ticket-4711.a_b"
        assert logged(hub, "ticket-4711.a_b")
        for insane in ("two words", "x" * 65, "a\\b"):
            replaced = get(hub, url, **{HEADER: insane})
            rid = replaced.headers[HEADER]
            assert rid != insane and valid_request_id(rid) and replaced.json()["request_id"] == rid
            assert logged(hub, rid)
    assert not any("two words" in json.dumps(line) for line in log_lines(hub))


def test_a_hub_error_page_shows_the_request_id(hub):
    response = requests.get(f"{hub.url}/hub/no-such-page", timeout=30)
    rid = response.headers[HEADER]
    assert response.status_code == 404 and f"Request id: <code>{rid}</code>" in response.text
    assert any(line.get("path") == "/hub/no-such-page" for line in logged(hub, rid))


def test_successes_carry_an_id_too_and_the_services_log_json(hub):
    response = get(hub, f"{hub.url}/hub/api/user")
    assert response.status_code == 200 and valid_request_id(response.headers[HEADER])
    loggers = {line["logger"] for line in log_lines(hub)}
    assert {"JupyterHub", "tornado.access", "QuotaService"} <= loggers, loggers
