"""The guided questionnaire: next_question asks only what the earlier answers make relevant, and bad
answers raise a ValueError naming the question."""
from __future__ import annotations

import pytest

from factoryhub.ai_act.questionnaire import (
    AnswerError,
    InvalidAnswer,
    IrrelevantAnswer,
    UnansweredQuestion,
    UnknownQuestion,
    assess,
    next_question,
    prune,
)

from .examples import EXAMPLES, NO_HIGH_RISK


def asked(answers_in_order: list[tuple[str, str]]) -> list[str]:
    """The questions next_question asks while the given answers are given one by one, the last one included."""
    answers, seen = {}, []
    for question_id, value in answers_in_order:
        question = next_question(answers)
        assert question is not None, f"the questionnaire ended before {question_id}"
        seen.append(question.id)
        assert question.id == question_id, f"asked {question.id} where the sequence answers {question_id}"
        answers[question_id] = value
    assert next_question(answers) is None, "the questionnaire should be complete"
    return seen


@pytest.mark.parametrize("sequence", [
    [("research_only", "no"), ("prohibited_practice", "social_scoring")],
    [("research_only", "yes"), ("placed_on_market", "no")],
    [("research_only", "yes"), ("placed_on_market", "yes"), ("prohibited_practice", "facial_image_scraping")],
    # Annex I decides high-risk: the Annex III questions are skipped
    [("research_only", "no"), ("prohibited_practice", "none"), ("annex_i_product", "yes"), ("gpai_model", "no"),
     ("interacts_with_people", "no"), ("synthetic_content", "no"), ("emotion_or_biometric", "no")],
    # profiling decides high-risk: the derogation is not asked
    [("research_only", "no"), ("prohibited_practice", "none"), ("annex_i_product", "no"),
     ("annex_iii_area", "employment"), ("annex_iii_profiling", "yes"), ("gpai_model", "no"),
     ("interacts_with_people", "no"), ("synthetic_content", "no"), ("emotion_or_biometric", "no")],
    # no Annex III area: neither profiling nor derogation; no model: no model questions; no synthetic content: no
    # deep-fake question
    [("research_only", "no"), ("prohibited_practice", "none"), ("annex_i_product", "no"), ("annex_iii_area", "none"),
     ("gpai_model", "no"), ("interacts_with_people", "yes"), ("synthetic_content", "no"),
     ("emotion_or_biometric", "no")],
    # systemic risk: the open-source question is not asked (the exemption does not apply)
    [("research_only", "no"), ("prohibited_practice", "none"), ("annex_i_product", "no"), ("annex_iii_area", "none"),
     ("gpai_model", "yes"), ("gpai_systemic_risk", "yes"), ("interacts_with_people", "no"),
     ("synthetic_content", "yes"), ("deepfake", "yes"), ("emotion_or_biometric", "no")],
    [("research_only", "no"), ("prohibited_practice", "none"), ("annex_i_product", "no"), ("annex_iii_area", "none"),
     ("gpai_model", "yes"), ("gpai_systemic_risk", "no"), ("gpai_open_source", "yes"),
     ("interacts_with_people", "no"), ("synthetic_content", "no"), ("emotion_or_biometric", "no")],
], ids=["prohibited", "research-exempt", "research-released-prohibited", "annex-i", "profiling", "chatbot",
        "gpai-systemic", "gpai-open-source"])
def test_next_question_asks_only_what_the_earlier_answers_make_relevant(sequence):
    assert asked(sequence) == [question_id for question_id, _ in sequence]
    assess(dict(sequence))  # and the complete answers assess


def test_the_first_question_is_the_research_exemption_and_questions_carry_help():
    question = next_question({})
    assert question.id == "research_only"
    assert question.kind == "yes-no" and question.values == ("yes", "no")
    assert "Art. 2(6)" in question.help and question.article == "Art. 2(6)"
    choice = next_question({"research_only": "no"})
    assert choice.kind == "choice" and "none" in choice.values
    assert all(option.label for option in choice.answers)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.name)
def test_every_example_is_exactly_one_guided_path(example):
    # answering in questionnaire order reaches the end with no answer left over
    order = []
    answers = {}
    while (question := next_question(answers)) is not None:
        order.append(question.id)
        answers[question.id] = example.answers[question.id]
    assert set(order) == set(example.answers)


# --- bad answers -----------------------------------------------------------------------------------

@pytest.mark.parametrize("answers, error, question, words", [
    ({"colour": "blue"}, UnknownQuestion, "colour", "not a question"),
    ({"research_only": "maybe"}, InvalidAnswer, "research_only", "takes one of: yes, no"),
    ({"research_only": True}, InvalidAnswer, "research_only", "True"),
    ({"research_only": "no", "prohibited_practice": "yes"}, InvalidAnswer, "prohibited_practice", "social_scoring"),
    ({"research_only": "no", "prohibited_practice": "none", "annex_i_product": "none"}, InvalidAnswer,
     "annex_i_product", "yes, no"),
    ({"research_only": "no"}, UnansweredQuestion, "prohibited_practice", "Does the system do any"),
    ({}, UnansweredQuestion, "research_only", "scientific research"),
    ({**NO_HIGH_RISK, "gpai_model": "yes", "interacts_with_people": "no"}, UnansweredQuestion, "gpai_systemic_risk",
     "10^25"),
    # answered further on than the first unanswered question: that one is named
    ({"research_only": "no", "gpai_model": "no"}, UnansweredQuestion, "prohibited_practice", "not answered"),
    ({"research_only": "no", "prohibited_practice": "social_scoring", "annex_i_product": "no"}, IrrelevantAnswer,
     "annex_i_product", "do not lead to it"),
])
def test_assess_names_the_question_a_bad_answer_set_fails_on(answers, error, question, words):
    with pytest.raises(error) as caught:
        assess(answers)
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, AnswerError)
    assert caught.value.question == question
    assert str(caught.value).startswith(f"{question}: ")
    assert words in str(caught.value)


def test_next_question_refuses_answers_ahead_of_the_one_it_would_ask():
    with pytest.raises(IrrelevantAnswer) as caught:
        next_question({"research_only": "no", "gpai_model": "no"})
    assert caught.value.question == "gpai_model"
    assert "prohibited_practice, unanswered, decides first" in str(caught.value)


def test_answers_must_be_a_mapping():
    with pytest.raises(TypeError, match="mapping"):
        assess([("research_only", "no")])


def test_prune_drops_what_a_changed_answer_made_irrelevant():
    hiring = next(e for e in EXAMPLES if e.name == "CV screening")
    changed = {**hiring.answers, "annex_iii_area": "none"}
    with pytest.raises(IrrelevantAnswer) as caught:
        assess(changed)
    assert caught.value.question == "annex_iii_profiling"
    kept = prune(changed)
    assert "annex_iii_profiling" not in kept and kept["gpai_model"] == "no"
    assert assess(kept).category == "minimal"
    # unknown ids and bad values are not dropped silently
    with pytest.raises(UnknownQuestion):
        prune({**changed, "colour": "blue"})
    with pytest.raises(InvalidAnswer):
        prune({**changed, "gpai_model": "perhaps"})
