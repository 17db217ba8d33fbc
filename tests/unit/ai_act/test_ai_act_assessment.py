"""The questionnaire's outcome for a table of example projects, one or more per branch: category, flags,
the articles the reasons cite and the checklist items the category requires."""
from __future__ import annotations

import pytest

from factoryhub.ai_act.assessment import CATEGORIES
from factoryhub.ai_act.checklist import packaged_checklist
from factoryhub.ai_act.questionnaire import assess, next_question, packaged_questionnaire

from .examples import EXAMPLES


def test_the_table_covers_every_category_and_branch():
    assert {e.category for e in EXAMPLES} == set(CATEGORIES)
    practices = {e.answers["prohibited_practice"] for e in EXAMPLES if e.category == "prohibited"}
    offered = set(packaged_questionnaire().question("prohibited_practice").values) - {"none"}
    assert practices == offered
    areas = {e.answers.get("annex_iii_area") for e in EXAMPLES if e.category == "high-risk"}
    assert set(packaged_questionnaire().question("annex_iii_area").values) - {"none"} <= areas
    assert len(EXAMPLES) >= 10


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.name)
def test_an_example_project_gets_its_category_reasons_and_checklist(example):
    assessment = assess(example.answers)
    assert assessment.category == example.category
    assert set(example.flags) == set(assessment.flags)
    cited = [reason.article for reason in assessment.reasons]
    for article in example.articles:
        assert article in cited, f"{example.name}: no reason cites {article}; reasons cite {cited}"
    ids = {item.id for item in assessment.checklist}
    assert example.items <= ids, f"{example.name}: missing {sorted(example.items - ids)}"
    assert not example.absent & ids, f"{example.name}: should not require {sorted(example.absent & ids)}"
    for reason in assessment.reasons:  # each reason names an answer actually given
        assert example.answers[reason.question] == reason.answer


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.name)
def test_the_checklist_is_the_categorys_items_then_each_flags_once(example):
    assessment = assess(example.answers)
    checklist = packaged_checklist()
    expected = list(checklist.categories[assessment.category])
    for flag in assessment.flags:
        expected += [item for item in checklist.flags[flag].items if item not in expected]
    assert [item.id for item in assessment.checklist] == expected
    assert assessment.questionnaire_version == packaged_questionnaire().version


def test_systemic_risk_is_a_flag_of_a_general_purpose_model():
    by_name = {e.name: assess(e.answers) for e in EXAMPLES}
    assert by_name["frontier model"].systemic_risk
    assert not by_name["7B foundation model"].systemic_risk
    assert not by_name["open-weights model"].systemic_risk


def test_the_first_category_decided_stands_and_later_answers_only_add_obligations():
    hiring = next(e for e in EXAMPLES if e.name == "hiring chatbot")
    assessment = assess(hiring.answers)
    assert assessment.category == "high-risk"  # not transparency, which the chatbot answer alone would give
    assert "chatbot-disclosure" in assessment.flags
    # the minimal answer at the end gives no reason when an earlier answer decided
    assert not any(r.question == "emotion_or_biometric" for r in assessment.reasons)


def test_research_placed_on_market_is_assessed_like_any_other_system():
    released = next(e for e in EXAMPLES if e.name == "research chatbot released to the public")
    plain = {**released.answers}
    del plain["placed_on_market"]
    plain["research_only"] = "no"
    assert assess(released.answers).category == assess(plain).category == "transparency"
    assert assess(released.answers).checklist == assess(plain).checklist


def _every_complete_path(questionnaire):
    """Every complete answer set, found by answering next_question's question with each value it offers."""
    pending = [{}]
    while pending:
        answers = pending.pop()
        question = next_question(answers, questionnaire)
        if question is None:
            yield answers
            continue
        pending += [{**answers, question.id: value} for value in question.values]


def test_every_path_through_the_questionnaire_ends_in_one_category():
    outcomes = [assess(answers) for answers in _every_complete_path(packaged_questionnaire())]
    assert len(outcomes) > 2000
    assert {o.category for o in outcomes} == set(CATEGORIES)
    for outcome in outcomes:
        assert outcome.checklist and outcome.reasons
        assert len({item.id for item in outcome.checklist}) == len(outcome.checklist)


def test_a_prohibited_practice_decides_whatever_else_the_system_does():
    questionnaire = packaged_questionnaire()
    for value in questionnaire.question("prohibited_practice").values:
        if value == "none":
            continue
        for research in ({"research_only": "no"}, {"research_only": "yes", "placed_on_market": "yes"}):
            assert assess({**research, "prohibited_practice": value}).category == "prohibited"


def test_every_checklist_item_and_flag_is_reachable():
    outcomes = [assess(a) for a in _every_complete_path(packaged_questionnaire())]
    reached_items = {item.id for o in outcomes for item in o.checklist}
    reached_flags = {flag for o in outcomes for flag in o.flags}
    checklist = packaged_checklist()
    assert reached_items == set(checklist.items)
    assert reached_flags == set(checklist.flags)
