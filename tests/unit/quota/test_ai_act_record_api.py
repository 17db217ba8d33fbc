"""A project's AI-Act record through the quota API served by tornado: members read, the PI and admins
write, others 403; bodies validated by the core (the question named); exports round-trip; every change
audited with the record before and after; the PI is a member."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from tornado.httpclient import AsyncHTTPClient
from tornado.httpserver import HTTPServer
from tornado.testing import bind_unused_port
from tornado.web import Application

from factoryhub.quota import admin, api, pages
from factoryhub.quota.models import Member, Project
from factoryhub.quota.schemas import ProjectUpdate
from factoryhub.webservice import JsonHandler, TemplateLoader

PREFIX = "/services/factoryhub-quota/"
ADMIN = {"kind": "user", "name": "admin", "scopes": [api.ADMIN]}
READER = {"kind": "user", "name": "support", "scopes": [api.READ_ALL]}
PI = {"kind": "user", "name": "alice", "scopes": []}
MEMBER = {"kind": "user", "name": "bob", "scopes": []}
STRANGER = {"kind": "user", "name": "carol", "scopes": []}
HIRING = {"research_only": "no", "prohibited_practice": "none", "annex_i_product": "no",
          "annex_iii_area": "employment", "annex_iii_profiling": "yes", "gpai_model": "no",
          "interacts_with_people": "yes", "synthetic_content": "no", "emotion_or_biometric": "no"}
RECORD = {"intended_purpose": "Rank job applications for recruiters at a staffing agency.", "answers": HIRING,
          "datasets": [{"entry_id": "cv-corpus", "title": "CV corpus", "licence": "CC-BY-4.0",
                        "access": "restricted", "terms": "Only for this project."}],
          "models": [{"name": "ranker", "model_card": "models/ranker/README.md", "datasets": ["cv-corpus"]}]}


@pytest.fixture
def project(db, climate):
    with db.write() as session:
        found = session.query(Project).filter_by(account=climate).one()
        found.members.append(Member(username="bob"))
        found.pi = "alice"
    return climate


@pytest.fixture
async def call(db, project, monkeypatch):
    """call(user, method, path, body) -> the response of the API below projects/{project}/ai-act."""
    users = {user["name"]: user for user in (ADMIN, READER, PI, MEMBER, STRANGER)}
    monkeypatch.setattr(JsonHandler, "get_current_user", lambda self: users[self.request.headers["X-Test-User"]])
    app = Application([*api.routes(PREFIX, db, dt.timedelta()), *pages.routes(PREFIX, db)],
                      service_prefix=PREFIX, cookie_secret="x" * 32, template_loader=TemplateLoader(pages.TEMPLATES))
    sock, port = bind_unused_port()
    server = HTTPServer(app)
    server.add_sockets([sock])

    async def fetch(user, method="GET", path="", body=None, account=project):
        payload = None if body is None else (body if isinstance(body, (str, bytes)) else json.dumps(body))
        return await AsyncHTTPClient().fetch(f"http://127.0.0.1:{port}{PREFIX}api/v1/projects/{account}/ai-act{path}",
                                             method=method, body=payload, headers={"X-Test-User": user["name"]},
                                             raise_error=False)
    yield fetch
    server.stop()


def body(response) -> dict:
    return json.loads(response.body)


async def test_members_read_the_pi_and_admins_write_others_are_refused(call):
    assert (await call(PI, "GET")).code == 404  # no record yet
    assert (await call(STRANGER, "GET")).code == 403
    assert (await call(MEMBER, "PUT", body=RECORD)).code == 403
    assert (await call(READER, "PUT", body=RECORD)).code == 403
    assert (await call(STRANGER, "PUT", body=RECORD)).code == 403
    created = await call(PI, "PUT", body=RECORD)
    assert created.code == 201, created.body
    assert body(created)["record"]["assessment"]["category"] == "high-risk"
    for reader in (PI, MEMBER, READER, ADMIN):
        got = await call(reader, "GET")
        assert got.code == 200 and body(got)["record"]["project"] == "proj-climate"
        assert body(got)["can_edit"] is (reader in (PI, ADMIN))
    assert (await call(STRANGER, "GET")).code == 403
    assert (await call(STRANGER, "GET", "/next-question")).code == 403
    changed = await call(ADMIN, "PUT", body={**RECORD, "intended_purpose": "Rank applications, reviewed by staff."})
    assert changed.code == 200 and body(changed)["updated_by"] == "user:admin"
    assert (await call(ADMIN, "GET", account="proj-none")).code == 404


async def test_bad_bodies_are_400s_naming_the_problem_and_change_nothing(call):
    cases = [
        ({**RECORD, "answers": {**HIRING, "annex_iii_area": "astrology"}}, "answers.annex_iii_area", "astrology"),
        ({**RECORD, "answers": {"no_such_question": "yes"}}, "answers.no_such_question", "not a question"),
        ({**RECORD, "colour": "red"}, "colour", "unknown field"),
        ({**RECORD, "project": "proj-other"}, "project", "must be the project of the path"),
        ({**RECORD, "intended_purpose": "short"}, "intended_purpose", "at least 10"),
        ({**RECORD, "assessment": None}, "assessment", "does not follow"),
        ({**RECORD, "models": [{"name": "m", "model_card": "javascript:alert(1)"}]}, "models.0.model_card", "URL"),
        ([RECORD], "body", "JSON object"),
        ("{not json", "body", "not JSON"),
    ]
    for sent, field, words in cases:
        response = await call(PI, "PUT", body=sent)
        assert response.code == 400, (sent, response.body)
        assert body(response)["field"] == field and words in body(response)["message"], body(response)
    assert (await call(PI, "GET")).code == 404


async def test_exports_round_trip_and_the_markdown_names_the_category(call):
    assert (await call(PI, "PUT", body=RECORD)).code == 201
    exported = await call(MEMBER, "GET", "?format=json")
    assert exported.headers["Content-Type"] == "application/json"
    again = await call(ADMIN, "PUT", body=exported.body)
    assert again.code == 200 and body(again)["record"] == json.loads(exported.body)
    assert (await call(MEMBER, "GET", "?format=json")).body == exported.body
    markdown = await call(MEMBER, "GET", "?format=markdown")
    assert markdown.headers["Content-Type"] == "text/markdown; charset=utf-8"
    text = markdown.body.decode()
    assert "high-risk" in text and "not legal advice" in text and "cv-corpus" in text
    assert body(await call(MEMBER, "GET", "?format=pdf"))["field"] == "format"


async def test_the_next_question_guides_until_the_category_is_decided(call):
    first = body(await call(MEMBER, "GET", "/next-question"))
    assert first["question"]["id"] == "research_only" and first["category"] is None
    assert {a["value"] for a in first["question"]["answers"]} == {"yes", "no"}
    partial = {**RECORD, "answers": {"research_only": "no"}}
    saved = body(await call(PI, "PUT", body=partial))
    assert saved["record"]["assessment"] is None and saved["next_question"]["id"] == "prohibited_practice"
    assert body(await call(MEMBER, "GET", "/next-question"))["question"]["id"] == "prohibited_practice"
    await call(PI, "PUT", body=RECORD)
    done = body(await call(MEMBER, "GET", "/next-question"))
    assert done["question"] is None and done["category"] == "high-risk"


async def test_every_change_is_audited_with_before_and_after(call, db):
    await call(PI, "PUT", body=RECORD)
    await call(PI, "PUT", body=RECORD)  # unchanged: nothing to audit
    await call(ADMIN, "PUT", body={**RECORD, "datasets": [], "models": []})
    with db.read() as session:
        entries = [e for e in admin.audit_entries(session) if e["entity"] == "ai-act-record"]
    assert [(e["action"], e["actor"], e["entity_id"]) for e in entries] == [
        ("update", "user:admin", "proj-climate"), ("create", "user:alice", "proj-climate")]
    assert entries[1]["before"] is None and entries[1]["after"]["assessment"]["category"] == "high-risk"
    assert entries[0]["before"]["datasets"][0]["entry_id"] == "cv-corpus" and entries[0]["after"]["datasets"] == []


def test_the_pi_is_one_of_the_members(db, project):
    with db.write() as session:
        with pytest.raises(admin.Conflict, match="not a member"):
            admin.update_project(session, "user:admin", project, ProjectUpdate(pi="carol"))
    with db.write() as session:
        with pytest.raises(admin.Conflict, match="the project's PI"):
            admin.set_member(session, "user:admin", project, "alice", False)
    with db.write() as session:
        admin.update_project(session, "user:admin", project, ProjectUpdate(pi=""))
        assert admin.set_member(session, "user:admin", project, "alice", False).pi == ""
