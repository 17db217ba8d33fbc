"""GET reports/kpi and the KPI page served by tornado: periods read and refused, admins only, CSV
equal to the JSON, and the services' figures present, "not offered", or missing with the reason."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest
import yaml
from tornado.httpclient import AsyncHTTPClient
from tornado.httpserver import HTTPServer
from tornado.testing import bind_unused_port
from tornado.web import Application

from factoryhub.quota import api, pages
from factoryhub.quota.accounting import JobUsage
from factoryhub.quota.importer import upsert_usage
from factoryhub.quota.kpi_report import NOT_OFFERED, csv_value, figure_rows, kpi_report
from factoryhub.report_period import MONTH_PATTERN, Period
from factoryhub.restclient import RemoteError, RestClient
from factoryhub.webservice import JsonHandler, TemplateLoader

PREFIX = "/services/factoryhub-quota/"
ADMIN = {"kind": "user", "name": "admin", "scopes": [api.ADMIN]}
READER = {"kind": "user", "name": "reader", "scopes": [api.READ_ALL]}


class Figures:
    """A stand-in for a service's RestClient: answers ``answer``, or raises it."""

    def __init__(self, answer):
        self.answer, self.asked = answer, []

    async def call(self, method, path, body=None, timeout=None):
        self.asked.append((method, path))
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


@pytest.fixture
def seeded(db, climate):
    with db.write() as session:
        start = dt.datetime.now(dt.UTC).replace(day=1, hour=1, minute=0, second=0, microsecond=0)
        upsert_usage(session, [JobUsage("c1", "1", climate, "alice", "gpu", "COMPLETED", start,
                                        start + dt.timedelta(hours=3), 2, 4, 3 * 3600)])
    return db


@pytest.fixture
async def serve(seeded, monkeypatch):
    """serve(sources, user) -> a function fetching a path below the prefix as that user."""
    monkeypatch.setattr(JsonHandler, "get_current_user", lambda self: self.application.settings["test_user"])
    servers = []

    def start(sources: dict, user: dict | None = ADMIN):
        app = Application([*api.routes(PREFIX, seeded, dt.timedelta()), *pages.routes(PREFIX, seeded)],
                          kpi_sources=sources, test_user=user, service_prefix=PREFIX, cookie_secret="x" * 32,
                          template_loader=TemplateLoader(pages.TEMPLATES))
        sock, port = bind_unused_port()
        server = HTTPServer(app)
        server.add_sockets([sock])
        servers.append(server)

        async def fetch(path: str):
            return await AsyncHTTPClient().fetch(f"http://127.0.0.1:{port}{PREFIX}{path}", raise_error=False)
        return fetch

    yield start
    for server in servers:
        server.stop()


@pytest.mark.parametrize("query, field, words", [
    ("month=2026-13", "month", "is not a month as YYYY-MM"),
    ("month=Nov", "month", "is not a month as YYYY-MM"),
    ("since=2026-11-01", "until", "give since and until together"),
    ("until=2026-11-01", "since", "give since and until together"),
    ("since=2026-11-31&until=2026-12-01", "since", "is not a date of the calendar"),
    ("since=2026/11/01&until=2026-12-01", "since", "is not a date as YYYY-MM-DD"),
    ("since=2026-11-02&until=2026-11-01", "until", "is before since"),
    ("since=2020-01-01&until=2023-01-02", "until", "at most 1096 (three years)"),
    ("month=2026-11&since=2026-11-01&until=2026-11-02", "month", "either month or since and until"),
    ("month=2026-11&month=2026-12", "month", "at most once"),
    ("month=2026-11&format=xml", "format", "must be one of json, csv"),
])
async def test_a_bad_period_is_a_400_naming_the_problem(serve, query, field, words):
    fetch = serve({"workshops": None, "catalogue": None})
    response = await fetch(f"api/v1/reports/kpi?{query}")
    assert response.code == 400
    body = json.loads(response.body)
    assert body["field"] == field and words in body["message"], body


async def test_the_report_is_for_admins_only(serve):
    assert (await serve({}, READER)("api/v1/reports/kpi")).code == 403
    assert (await serve({}, None)("api/v1/reports/kpi")).code == 401


async def test_the_csv_export_has_one_row_per_figure_of_the_json(serve):
    fetch = serve({"workshops": None, "catalogue": Figures({"access_requests_granted": 3})})
    report = json.loads((await fetch("api/v1/reports/kpi")).body)  # no period: this month
    exported = await fetch("api/v1/reports/kpi?format=csv")
    assert exported.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.body.decode())))
    assert rows[0] == ["section", "key", "value"]
    assert rows[1:] == [[s, k, csv_value(v)] for s, k, v in figure_rows(report)]
    assert ["usage_by_project", "proj-climate.gpu_hours", "6.0"] in rows
    assert ["data", "access_requests_granted", "3"] in rows
    assert ["training", "workshops", ""] in rows and ["unavailable", "workshops", NOT_OFFERED] in rows


async def test_a_hub_without_the_services_says_they_are_not_offered(seeded):
    report = await kpi_report(seeded, {"workshops": None, "catalogue": None},
                              Period(dt.date(2026, 11, 1), dt.date(2026, 11, 30)), dt.datetime.now(dt.UTC))
    assert report["training"] == {"workshops": None, "participants": None}
    assert report["data"] == {"access_requests_granted": None}
    assert report["unavailable"] == {"workshops": NOT_OFFERED, "participants": NOT_OFFERED,
                                     "access_requests_granted": NOT_OFFERED}


async def test_the_services_figures_for_the_same_period(seeded):
    workshops = Figures({"workshops": 2, "participants": 31, "period": {}})
    catalogue = Figures({"access_requests_granted": 4})
    report = await kpi_report(seeded, {"workshops": workshops, "catalogue": catalogue},
                              Period(dt.date(2026, 11, 1), dt.date(2026, 11, 30)), dt.datetime.now(dt.UTC))
    assert report["training"] == {"workshops": 2, "participants": 31}
    assert report["data"] == {"access_requests_granted": 4} and report["unavailable"] == {}
    assert workshops.asked == catalogue.asked == [("GET", "/reports/kpi?since=2026-11-01&until=2026-11-30")]


async def test_a_failing_service_leaves_its_figures_out_and_says_why(seeded):
    down = RestClient("http://127.0.0.1:9", "token")  # nothing listens on the discard port
    odd = Figures({"workshops": "2", "participants": 3})
    refused = Figures(RemoteError("GET", "/reports/kpi", 403, "this needs the custom:kpi:read permission"))
    period = Period(dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    report = await kpi_report(seeded, {"workshops": odd, "catalogue": down}, period, dt.datetime.now(dt.UTC))
    assert report["training"] == {"workshops": None, "participants": None}
    assert report["unavailable"]["workshops"] == "the workshops service answered without a count of workshops"
    assert report["unavailable"]["access_requests_granted"].startswith(
        "the catalogue service failed: GET /reports/kpi?since=2026-11-01&until=2026-11-30 was unreachable")
    report = await kpi_report(seeded, {"workshops": refused, "catalogue": None}, period, dt.datetime.now(dt.UTC))
    assert report["unavailable"]["participants"] == ("the workshops service failed: GET /reports/kpi answered 403: "
                                                     "this needs the custom:kpi:read permission")


async def test_the_page_shows_the_figures_charts_and_export_links(serve):
    fetch = serve({"workshops": None, "catalogue": Figures({"access_requests_granted": 3})})
    page = (await fetch("admin/kpi?month=2026-11")).body.decode()
    csv_link = "/services/factoryhub-quota/api/v1/reports/kpi?since=2026-11-01&amp;until=2026-11-30&amp;format=csv"
    assert f'href="{csv_link}"' in page
    assert 'id="fh-kpi-chart-by-track"' in page and 'id="fh-kpi-chart-by-project"' in page
    assert 'data-figure="workshops">workshops: not offered on this hub' in page
    bad = await fetch("admin/kpi?month=2026-13")
    assert bad.code == 400 and "No report — month: &#x27;2026-13&#x27; is not a month" in bad.body.decode()
    assert (await serve({}, READER)("admin/kpi")).code == 403


@pytest.mark.parametrize("service", ["quota", "workshops", "catalogue"])
def test_the_documents_month_pattern_is_the_readers(service):
    spec = yaml.safe_load((Path(api.__file__).parents[1] / service / "openapi.yaml").read_text())
    [month] = [p for p in spec["paths"]["/reports/kpi"]["get"]["parameters"] if p["name"] == "month"]
    assert month["schema"]["pattern"] == f"^{MONTH_PATTERN}$"
