"""Request ids and JSON log lines (factoryhub.request_logs) on a real tornado server: the header, the
error bodies of the services' writers and of a foreign JSON writer (JupyterHub's), the error page,
and the access line's fields."""
from __future__ import annotations

import io
import json
import logging
import sys

import pytest
from tornado import web
from tornado.httpclient import AsyncHTTPClient
from tornado.httpserver import HTTPServer
from tornado.testing import bind_unused_port

from factoryhub.request_logs import (
    HEADER,
    JsonFormatter,
    app_settings,
    application_logging_config,
    configure_service_logging,
    current_request_id,
    logged_path,
    new_request_id,
    valid_request_id,
    with_request_id,
)
from factoryhub.webservice import ApiError, JsonErrors, PageHandler

FIELDS = {"time", "level", "logger", "message"}


class Refusing(JsonErrors):
    def get(self):
        logging.getLogger("factoryhub.test").warning("refusing %s", "it")
        raise ApiError(400, "size: too big", "size")


class Missing(PageHandler):
    def get(self):
        raise web.HTTPError(404)


class ForeignJson(web.RequestHandler):
    """Writes errors as JupyterHub's APIHandler does: a JSON object without an id."""

    def get(self):
        raise web.HTTPError(403)

    def write_error(self, status_code, **kwargs):
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"status": status_code, "message": "no"}))


class Fine(web.RequestHandler):
    def get(self):
        self.finish({"seen": current_request_id()})


@pytest.fixture
def lines():
    """Every log line written while the test runs, as JSON lines."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(old_level)


@pytest.fixture
async def base_url():
    sock, port = bind_unused_port()
    app = web.Application([("/refuse", Refusing), ("/missing", Missing), ("/foreign", ForeignJson),
                           ("/fine", Fine)], service_prefix="/", **app_settings())
    server = HTTPServer(app)
    server.add_sockets([sock])
    yield f"http://127.0.0.1:{port}"
    server.stop()


async def fetch(url, **headers):
    return await AsyncHTTPClient().fetch(url, headers=headers, raise_error=False)


def test_valid_request_ids():
    assert all(valid_request_id(v) for v in ("a", "A.b_c-9", "x" * 64, new_request_id()))
    assert not any(valid_request_id(v) for v in ("", "x" * 65, "a b", "a/b", "é", "a\nb", "<script>", None))


def test_generated_ids_are_unique_sane_tokens():
    ids = {new_request_id() for _ in range(10_000)}
    assert len(ids) == 10_000 and all(valid_request_id(i) and len(i) == 32 for i in ids)


def test_a_json_body_gains_the_id_unless_it_has_one_or_is_no_object():
    assert json.loads(with_request_id(b'{"status": 404}', "r1")) == {"status": 404, "request_id": "r1"}
    for body in (b'{"request_id": "mine"}', b"[1]", b"not json", b"\xff"):
        assert with_request_id(body, "r1") == body


async def test_service_error_carries_one_id_in_header_body_and_log_lines(base_url, lines):
    response = await fetch(f"{base_url}/refuse")
    body = json.loads(response.body)
    rid = response.headers[HEADER]
    assert valid_request_id(rid) and len(rid) == 32
    assert body == {"status": 400, "message": "size: too big", "field": "size", "request_id": rid}
    logged = lines()
    assert all(FIELDS <= set(line) for line in logged)
    warning = next(line for line in logged if line["logger"] == "factoryhub.test")
    assert warning["message"] == "refusing it" and warning["request_id"] == rid and warning["level"] == "warning"
    access = next(line for line in logged if line.get("path") == "/refuse")
    assert access["request_id"] == rid and access["method"] == "GET" and access["status"] == 400
    assert access["level"] == "warning" and isinstance(access["duration_ms"], float)


async def test_a_sane_incoming_id_is_echoed_and_an_insane_one_replaced(base_url, lines):
    echoed = await fetch(f"{base_url}/refuse", **{HEADER: "support-Case_42.1"})
    assert echoed.headers[HEADER] == "support-Case_42.1"
    assert json.loads(echoed.body)["request_id"] == "support-Case_42.1"
    for bad in ("has space", "x" * 65, "a;b"):
        replaced = await fetch(f"{base_url}/refuse", **{HEADER: bad})
        assert replaced.headers[HEADER] != bad and valid_request_id(replaced.headers[HEADER])
    assert not any("has space" in json.dumps(line) for line in lines())


async def test_every_response_has_an_id_and_the_handler_sees_it(base_url):
    response = await fetch(f"{base_url}/fine")
    assert response.code == 200 and json.loads(response.body) == {"seen": response.headers[HEADER]}
    other = await fetch(f"{base_url}/fine")
    assert other.headers[HEADER] != response.headers[HEADER]


async def test_a_foreign_json_error_gains_the_id_with_a_right_length(base_url):
    response = await fetch(f"{base_url}/foreign")
    assert response.code == 403
    assert json.loads(response.body) == {"status": 403, "message": "no", "request_id": response.headers[HEADER]}
    assert int(response.headers["Content-Length"]) == len(response.body)


async def test_the_error_page_names_the_id(base_url):
    response = await fetch(f"{base_url}/missing", **{HEADER: "abc.123"})
    assert response.code == 404 and response.headers["Content-Type"].startswith("text/html")
    assert "Request id: <code>abc.123</code>" in response.body.decode()


def test_a_record_with_a_traceback_stays_one_json_line():
    try:
        raise ValueError("bad\nvalue")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed: %s", ("multi\nline",), sys.exc_info())
    text = JsonFormatter("%(message)s", "%H").format(record)
    assert "\n" not in text
    line = json.loads(text)
    assert line["message"] == "failed: multi\nline" and "ValueError: bad" in line["exception"]
    assert line["time"].endswith("+00:00") and "request_id" not in line


def test_application_logging_config_only_in_json():
    assert application_logging_config("text") == {}
    json_config = application_logging_config("json")
    assert json_config["formatters"]["console"]["class"] == "factoryhub.request_logs.JsonFormatter"


def test_a_service_refuses_an_unknown_log_format():
    with pytest.raises(ValueError, match="FACTORYHUB_LOG_FORMAT: 'xml' is not one of text, json"):
        configure_service_logging("xml", logging.getLogger("unused"), "%(message)s")


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_a_service_writes_every_logger_at_info_in_its_format(monkeypatch, log_format):
    root, app_log = logging.getLogger(), logging.getLogger("SomeService")
    saved = root.handlers[:], root.level, app_log.handlers[:], app_log.propagate
    app_log.addHandler(logging.NullHandler())  # traitlets' own handler, printing from WARNING
    app_log.propagate = False
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    try:
        configure_service_logging(log_format, app_log, "%(levelname)s %(name)s %(message)s")
        app_log.info("service on %s", "port 1")
        logging.getLogger("tornado.access").warning("404 GET /x")
        logging.getLogger("factoryhub.test").debug("not shown")
    finally:
        root.handlers[:], app_log.handlers[:] = saved[0], saved[2]
        root.setLevel(saved[1])
        app_log.propagate = saved[3]
    lines = stream.getvalue().splitlines()
    if log_format == "json":
        assert [(json.loads(x)["logger"], json.loads(x)["message"]) for x in lines] == \
            [("SomeService", "service on port 1"), ("tornado.access", "404 GET /x")]
    else:
        assert lines == ["INFO SomeService service on port 1", "WARNING tornado.access 404 GET /x"]


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_the_hub_tells_every_service_it_starts_the_log_format_and_loses_none(tmp_path, log_format):
    import yaml
    from traitlets.config import Config

    from factoryhub.hubconfig import configure
    from factoryhub.site import load_site
    from tests.harness.hub import REPO

    site = yaml.safe_load((REPO / "extensions" / "hub" / "site" / "default.yaml").read_text())
    site["hub"]["log_format"] = log_format
    (tmp_path / "site.yaml").write_text(yaml.safe_dump(site))
    c = Config()
    configure(c, load_site(str(tmp_path / "site.yaml")))
    services = c.JupyterHub.services.get_value([])  # as JupyterHub reads it, once everything is configured
    started = {s["name"]: s["environment"]["FACTORYHUB_LOG_FORMAT"] for s in services if "command" in s}
    assert {"factoryhub-quota", "factoryhub-catalogue", "idle-culler"} <= set(started)
    assert set(started.values()) == {log_format}
    assert "factoryhub-metrics" in {s["name"] for s in services}  # appended last: not lost
    assert c.JupyterHub.tornado_settings.get_value({})["log_function"].__name__ == "hub_log_request"


def test_the_idle_culler_writes_json_when_the_hub_says_so(monkeypatch):
    from jupyterhub_idle_culler import IdleCuller

    from factoryhub import orphan_guard

    launched = {}
    monkeypatch.setenv("FACTORYHUB_LOG_FORMAT", "json")
    monkeypatch.setattr(orphan_guard, "exit_when_orphaned", lambda: None)
    monkeypatch.setattr(IdleCuller, "launch_instance", classmethod(lambda cls, config: launched.update(config=config)))
    orphan_guard.run_idle_culler()
    stream, root = io.StringIO(), logging.getLogger()
    saved = root.handlers[:], root.level
    monkeypatch.setattr(sys, "stderr", stream)
    try:
        IdleCuller(config=launched["config"]).log.warning("culling %s", "bob")
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    line = json.loads(stream.getvalue())
    assert line["logger"] == "IdleCuller" and line["message"] == "culling bob" and line["level"] == "warning"


def test_a_secret_in_a_path_is_not_logged():
    assert logged_path("/hub/api/authorizations/token/s3cr3t") == "/hub/api/authorizations/token/[secret]"
    assert logged_path("/hub/api/authorizations/cookie/jupyterhub-services/s3cr3t") == \
        "/hub/api/authorizations/cookie/[secret]"
    assert logged_path("/hub/api/users/alice") == "/hub/api/users/alice"
