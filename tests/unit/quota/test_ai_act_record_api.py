"""A project's AI-Act record through the quota API and its page served by tornado: members read, the PI
and admins write, others 403; bodies validated by the core (the question named); exports round-trip;
every change audited with the record before and after; the PI is a member; the page's guided form asks
the next question until the category is decided and says it is no legal advice."""
from __future__ import annotations

import datetime as dt
import json
from urllib.parse import urlencode

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

    async def fetch(user, method="GET", path="", body=None, account=project, below=None):
        """``below``: a path below the prefix instead of the record's API; a dict body is a form then."""
        if below is not None:
            url, payload = f"{PREFIX}{below}", None if body is None else urlencode(body)
        else:
            url = f"{PREFIX}api/v1/projects/{account}/ai-act{path}"
            payload = None if body is None else (body if isinstance(body, (str, bytes)) else json.dumps(body))
        return await AsyncHTTPClient().fetch(f"http://127.0.0.1:{port}{url}", method=method, body=payload,
                                             headers={"X-Test-User": user["name"]}, follow_redirects=False,
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


async def test_the_page_guides_the_pi_through_the_questionnaire_and_members_only_read(call):
    page = "ai-act/proj-climate"
    empty = await call(MEMBER, below=page)
    assert empty.code == 200 and b"not legal advice" in empty.body and b"fh-ai-act-empty" in empty.body
    assert b"fh-ai-act-purpose-form" not in empty.body
    assert (await call(STRANGER, below=page)).code == 403
    purpose = {"action": "purpose", "intended_purpose": "x" * 20}
    assert (await call(MEMBER, "POST", body=purpose, below=page)).code == 403
    refused = await call(PI, "POST", body={"action": "answer", "question": "research_only", "value": "no"}, below=page)
    assert refused.code == 400 and b"write the project&#x27;s intended purpose first" in refused.body
    saved = await call(PI, "POST", body={"action": "purpose", "intended_purpose": RECORD["intended_purpose"]},
                       below=page)
    assert saved.code == 302 and saved.headers["Location"].endswith(f"{page}?saved=1")
    for question, value in HIRING.items():  # asked one after the other, in the path's order
        shown = (await call(PI, below=page)).body.decode()
        assert f'id="fh-ai-act-next" data-question="{question}"' in shown
        done = await call(PI, "POST", body={"action": "answer", "question": question, "value": value}, below=page)
        assert done.code == 302, done.body
    final = (await call(MEMBER, below=page)).body.decode()
    assert "fh-ai-act-next" not in final and "<strong>high-risk</strong>" in final
    assert 'data-item="human-oversight"' in final
    assert "fh-ai-act-exports" in final and 'name="action" value="answer"' not in final  # a member only reads
    bad = await call(PI, "POST", body={"action": "answer", "question": "annex_iii_area", "value": "astrology"},
                     below=page)
    assert bad.code == 400 and b"annex_iii_area" in bad.body
    changed = await call(ADMIN, "POST", body={"action": "answer", "question": "annex_iii_area", "value": "none"},
                         below=page)
    assert changed.code == 302
    record = body(await call(MEMBER))["record"]
    assert "annex_iii_profiling" not in record["answers"]  # no longer on the path: dropped
    assert record["answers"]["interacts_with_people"] == "yes"  # still on it: kept
    assert record["assessment"]["category"] == "transparency"


async def test_the_page_adds_and_removes_datasets_and_models(call):
    page = "ai-act/proj-climate"
    await call(PI, "PUT", body={**RECORD, "datasets": [], "models": []})
    dataset = {"action": "add-dataset", "entry_id": "cv-corpus", "title": "CV corpus", "licence": "CC-BY-4.0",
               "access": "restricted", "terms": "Project only."}
    assert (await call(PI, "POST", body=dataset, below=page)).code == 302
    model = {"action": "add-model", "name": "ranker", "model_card": "https://models.example/ranker",
             "base_model": "bert-base", "datasets": "cv-corpus, other"}
    refused = await call(PI, "POST", body=model, below=page)
    assert refused.code == 400 and b"other" in refused.body
    assert (await call(PI, "POST", body={**model, "datasets": "cv-corpus"}, below=page)).code == 302
    shown = (await call(MEMBER, below=page)).body.decode()
    assert "<code>cv-corpus</code>" in shown and 'href="https://models.example/ranker"' in shown
    removed = await call(ADMIN, "POST", body={"action": "remove-dataset", "entry_id": "cv-corpus"}, below=page)
    assert removed.code == 302
    record = body(await call(MEMBER))["record"]
    assert record["datasets"] == [] and record["models"][0]["datasets"] == []
    assert (await call(PI, "POST", body={"action": "remove-model", "name": "ranker"}, below=page)).code == 302
    assert body(await call(MEMBER))["record"]["models"] == []


async def test_an_admin_names_the_pi_on_the_project_page(call, db):
    assert (await call(ADMIN, "POST", body={"pi": "bob"}, below="admin/projects/proj-climate/pi")).code == 302
    assert (await call(MEMBER, "PUT", body=RECORD)).code == 201  # bob is the PI now
    assert (await call(PI, "PUT", body=RECORD)).code == 403
    refused = await call(ADMIN, "POST", body={"pi": "carol"}, below="admin/projects/proj-climate/pi")
    assert refused.code == 400 and b"carol is not a member" in refused.body
    assert (await call(MEMBER, "POST", body={"pi": "bob"}, below="admin/projects/proj-climate/pi")).code == 403
