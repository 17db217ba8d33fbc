"""The session's client of the site's services: caching, errors passed through, outages named."""
from __future__ import annotations

import json
import socket

import pytest
from tornado import web
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

from factoryhub_lab.services import CATALOGUE, QUOTA, ServiceClient


class FakeService(web.RequestHandler):
    calls: list[str] = []

    def get(self, service, path):
        FakeService.calls.append(f"{self.request.method} {service} {path} {self.request.headers['Authorization']}")
        if path == "entries/missing":
            self.set_status(404)
            self.finish({"status": 404, "message": "no catalogue entry 'missing'", "field": None})
        else:
            self.finish({"path": path, "query": self.request.query})

    def post(self, service, path):
        FakeService.calls.append(f"POST {service} {path}")
        self.set_status(201)
        self.finish(json.loads(self.request.body))


class FakeHub(web.RequestHandler):
    """The hub's service model: where the service answers."""

    def get(self, name):
        FakeService.calls.append(f"hub {name} {self.request.headers['Authorization']}")
        host = self.request.host
        self.finish({"name": name, "url": f"http://{host}", "prefix": f"/services/{name}/"})


@pytest.fixture
async def services():
    sockets = bind_sockets(0, "127.0.0.1")
    server = HTTPServer(web.Application([(r"/services/([^/]+)/api/v1/(.*)", FakeService),
                                         (r"/hub/api/services/([^/]+)", FakeHub)]))
    server.add_sockets(sockets)
    FakeService.calls = []
    yield f"http://127.0.0.1:{sockets[0].getsockname()[1]}/services/"
    server.stop()


async def test_answers_are_cached_briefly_and_writes_invalidate_them(services):
    now = [0.0]
    client = ServiceClient("session-token", services_url=services, ttl=15, clock=lambda: now[0])
    first = await client.call(QUOTA, "projects")
    assert first.status == 200 and first.body["path"] == "projects"
    await client.call(QUOTA, "projects")
    assert FakeService.calls == ["GET factoryhub-quota projects token session-token"]
    now[0] = 16
    await client.call(QUOTA, "projects")
    assert len(FakeService.calls) == 2
    await client.call(CATALOGUE, "entries", [("q", "sensor"), ("theme", "ENVI"), ("theme", "TECH")])
    assert (await client.call(CATALOGUE, "entries", [("q", "sensor"), ("theme", "ENVI"), ("theme", "TECH")])).body[
        "query"] == "q=sensor&theme=ENVI&theme=TECH"
    made = await client.call(CATALOGUE, "entries/x/requests", method="POST", body={"justification": "j"})
    assert made.status == 201 and made.body == {"justification": "j"}
    await client.call(CATALOGUE, "entries", [("q", "sensor"), ("theme", "ENVI"), ("theme", "TECH")])
    # re-read after the write
    assert sum(c.startswith("GET factoryhub-catalogue entries ") for c in FakeService.calls) == 2


async def test_a_refusal_is_passed_through_with_its_message(services):
    answer = await ServiceClient("t", services_url=services).call(CATALOGUE, "entries/missing")
    assert answer.status == 404 and answer.body["message"] == "no catalogue entry 'missing'" and answer.available


async def test_a_service_that_does_not_answer_is_unavailable_not_empty():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    answer = await ServiceClient("t", services_url=f"http://127.0.0.1:{port}/services/", timeout=2).call(
        QUOTA, "projects")
    assert answer.status == 503 and not answer.available and answer.body["available"] is False
    assert "quota service is not reachable" in answer.body["message"]


async def test_without_a_services_url_the_hub_says_where_a_service_answers(services):
    hub_api = services.replace("/services/", "/hub/api")
    client = ServiceClient("session-token", hub_api_url=hub_api)
    assert (await client.call(QUOTA, "projects")).body["path"] == "projects"
    await client.call(QUOTA, "projects/proj-climate")
    assert FakeService.calls[0] == "hub factoryhub-quota token session-token"
    assert sum(c.startswith("hub ") for c in FakeService.calls) == 1  # asked once


async def test_a_hub_that_does_not_know_the_service_makes_it_unavailable():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = ServiceClient("t", hub_api_url=f"http://127.0.0.1:{port}/hub/api", timeout=2)
    answer = await client.call(CATALOGUE, "entries")
    assert answer.status == 503 and "catalogue service is not reachable" in answer.body["message"]


def test_path_parts_are_quoted():
    assert ServiceClient.path("entries", "a/../b") == "entries/a%2F..%2Fb"
