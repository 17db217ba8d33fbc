"""A project's AI-Act record behind a real hub (embedded default): a member reads it, a non-member
gets 403, the PI writes it, the Markdown export names the category, and the page says it is an aid
to the project's own assessment, not legal advice."""
from __future__ import annotations

import pytest
import requests

from tests.harness.hub import HubProcess, wait_until

pytestmark = pytest.mark.hub

RECORD = {"intended_purpose": "A chatbot answering students' questions about course logistics.",
          "answers": {"research_only": "no", "prohibited_practice": "none", "annex_i_product": "no",
                      "annex_iii_area": "none", "gpai_model": "no", "interacts_with_people": "yes",
                      "synthetic_content": "no", "emotion_or_biometric": "no"}}


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    with HubProcess(tmp_path_factory.mktemp("ai-act")) as hub:
        hub.quota = f"{hub.url}/services/factoryhub-quota/api/v1"
        hub.tokens = {name: hub.api_token(name) for name in ("admin", "researcher")}
        wait_until(lambda: requests.get(f"{hub.quota}/health", timeout=2).status_code == 200, 60, "quota service")
        yield hub


def call(hub, who, method, path, **kw) -> requests.Response:
    return requests.request(method, f"{hub.quota}/{path}", headers={"Authorization": f"token {hub.tokens[who]}"},
                            timeout=30, **kw)


def project(hub, account: str, members: list[str], pi: str) -> None:
    resp = call(hub, "admin", "POST", "projects", json={"account": account, "title": account, "members": members,
                                                         "pi": pi})
    assert resp.status_code == 201 and resp.json()["pi"] == pi, resp.text


def test_members_read_the_pi_writes_others_are_refused(hub):
    project(hub, "aiact-own", ["researcher"], "researcher")  # researcher is its PI
    project(hub, "aiact-team", ["researcher", "lead"], "lead")  # researcher is a member, not the PI
    project(hub, "aiact-other", ["lead"], "lead")  # researcher is no member

    written = call(hub, "researcher", "PUT", "projects/aiact-own/ai-act", json=RECORD)
    assert written.status_code == 201, written.text
    assert written.json()["record"]["assessment"]["category"] == "transparency"
    markdown = call(hub, "researcher", "GET", "projects/aiact-own/ai-act?format=markdown")
    assert markdown.status_code == 200 and markdown.headers["Content-Type"].startswith("text/markdown")
    assert "transparency" in markdown.text and "not legal advice" in markdown.text

    assert call(hub, "admin", "PUT", "projects/aiact-team/ai-act", json=RECORD).status_code == 201
    read = call(hub, "researcher", "GET", "projects/aiact-team/ai-act")
    assert read.status_code == 200 and read.json()["can_edit"] is False
    refused = call(hub, "researcher", "PUT", "projects/aiact-team/ai-act", json=RECORD)
    assert refused.status_code == 403 and "only the PI" in refused.json()["message"]

    assert call(hub, "admin", "PUT", "projects/aiact-other/ai-act", json=RECORD).status_code == 201
    for path in ("ai-act", "ai-act?format=markdown", "ai-act/next-question"):
        assert call(hub, "researcher", "GET", f"projects/aiact-other/{path}").status_code == 403

    audit = call(hub, "admin", "GET", "audit").json()["entries"]
    assert ("user:researcher", "create", "aiact-own") in {(e["actor"], e["action"], e["entity_id"]) for e in audit
                                                          if e["entity"] == "ai-act-record"}


def test_the_page_shows_the_record_and_the_notice(hub):
    if call(hub, "admin", "GET", "projects/aiact-own").status_code == 404:
        project(hub, "aiact-own", ["researcher"], "researcher")
        call(hub, "researcher", "PUT", "projects/aiact-own/ai-act", json=RECORD)
    page = hub.login("researcher").get(f"{hub.url}/services/factoryhub-quota/ai-act/aiact-own", timeout=30)
    assert page.status_code == 200, page.text[-2000:]
    assert "not legal advice" in page.text and "<strong>transparency</strong>" in page.text
    assert 'id="fh-ai-act-add-model"' in page.text  # the PI edits
