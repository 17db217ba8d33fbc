"""A project's AI-Act record page in a real browser: the PI answers the guided questionnaire and sees
the category, the checklist and the "aid to your own assessment" notice; a member reads it without
forms; a non-member is refused."""
from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from tests.harness.browser_login import log_in_home
from tests.harness.hub import HubProcess, wait_until

pytestmark = pytest.mark.browser

# the answers that make a chatbot for students a transparency-obligation system (tests/hub/test_ai_act_on_hub.py)
ANSWERS = {"research_only": "no", "prohibited_practice": "none", "annex_i_product": "no", "annex_iii_area": "none",
           "gpai_model": "no", "interacts_with_people": "yes", "synthetic_content": "no", "emotion_or_biometric": "no"}


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    with HubProcess(tmp_path_factory.mktemp("ai-act-browser")) as hub:
        api, token = f"{hub.url}/services/factoryhub-quota/api/v1", hub.api_token("admin")
        wait_until(lambda: requests.get(f"{api}/health", timeout=2).status_code == 200, 60, "quota service")
        auth = {"Authorization": f"token {token}"}
        for account, members, pi in (("aiact-page", ["researcher"], "researcher"),
                                     ("aiact-team", ["researcher", "lead"], "lead"),
                                     ("aiact-closed", ["lead"], "lead")):
            resp = requests.post(f"{api}/projects", headers=auth, timeout=30,
                                 json={"account": account, "title": account, "members": members, "pi": pi})
            assert resp.status_code == 201, resp.text
        resp = requests.put(f"{api}/projects/aiact-team/ai-act", headers=auth, timeout=30, json={
            "intended_purpose": "A chatbot answering students' questions about course logistics.", "answers": ANSWERS})
        assert resp.status_code == 201, resp.text
        yield hub


def record_page(hub, account: str) -> str:
    return f"{hub.url}/services/factoryhub-quota/ai-act/{account}"


def test_the_pi_answers_the_questionnaire_and_sees_the_category_and_checklist(hub, page, screenshot):
    log_in_home(page, hub, "researcher")
    page.goto(record_page(hub, "aiact-page"))
    expect(page.locator("#fh-ai-act-notice")).to_contain_text("aid to your own assessment")
    expect(page.locator("#fh-ai-act-empty")).to_be_visible()

    page.get_by_label("What the system or model is for").fill("short")
    page.get_by_role("button", name="Start the record").click()
    expect(page.locator("#fh-message")).to_contain_text("Not saved — ")  # refused, nothing written
    page.get_by_label("What the system or model is for").fill(
        "A chatbot answering students' questions about course logistics.")
    page.get_by_role("button", name="Start the record").click()
    expect(page.locator("#fh-message")).to_have_text("Saved.")

    asked = []
    while page.locator("#fh-ai-act-next").count():  # each answer reloads the page with the next question or none
        question = page.locator("#fh-ai-act-next").get_attribute("data-question")
        assert question in ANSWERS and question not in asked, f"unexpected question {question} after {asked}"
        asked.append(question)
        page.locator(f"#fh-ai-act-next input[value='{ANSWERS[question]}']").check()
        page.locator("#fh-ai-act-next").get_by_role("button", name="Answer").click()
        expect(page.locator("#fh-message")).to_have_text("Saved.")
    assert asked, "the page asked no question"
    expect(page.locator("#fh-ai-act-category")).to_contain_text("Risk category: transparency")
    expect(page.locator("#fh-ai-act-checklist tbody tr")).not_to_have_count(0)
    expect(page.locator("#fh-ai-act-notice")).to_contain_text("aid to your own assessment")

    page.get_by_label("model name").fill("sentiment classifier")
    page.get_by_label("model card").fill("models/sentiment/MODEL_CARD.md")
    page.get_by_role("button", name="Add").last.click()
    expect(page.locator("#fh-ai-act-models")).to_contain_text("models/sentiment/MODEL_CARD.md")
    screenshot("ai-act-pi")


def test_a_member_reads_the_record_without_forms(hub, page, screenshot):
    log_in_home(page, hub, "researcher")  # a member of aiact-team, not its PI
    page.goto(record_page(hub, "aiact-team"))
    expect(page.locator("#fh-ai-act-category")).to_contain_text("Risk category: transparency")
    expect(page.locator("#fh-ai-act-notice")).to_contain_text("aid to your own assessment")
    expect(page.locator("#fh-ai-act-checklist tbody tr")).not_to_have_count(0)
    expect(page.locator("form#fh-ai-act-purpose-form")).to_have_count(0)
    expect(page.locator("#fh-ai-act-add-model")).to_have_count(0)
    expect(page.get_by_role("button", name="Change")).to_have_count(0)
    expect(page.locator("#fh-ai-act-answers")).to_contain_text("Yes")  # the answers are shown as text
    screenshot("ai-act-member")


def test_a_non_member_gets_the_refusal_page(hub, page):
    log_in_home(page, hub, "researcher")
    response = page.goto(record_page(hub, "aiact-closed"))
    assert response.status == 403
    expect(page.locator("body")).to_contain_text("403")
