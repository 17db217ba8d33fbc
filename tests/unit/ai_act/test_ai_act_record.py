"""The project record: validation with errors naming the field, an assessment that always follows from
the answers, JSON that round-trips exactly, and Markdown that opens with the not-legal-advice notice and
lists every checklist item."""
from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from factoryhub.ai_act.questionnaire import assess
from factoryhub.ai_act.record import (
    DatasetUse,
    ModelProduced,
    ProjectRecord,
    RecordError,
    from_json,
    parse_record,
    revise,
    to_json,
    to_markdown,
)

from .examples import EXAMPLES

TICKETS = DatasetUse(entry_id="support-tickets-sentiment", title="Support tickets with sentiment labels",
                     licence="CC-BY-4.0", access="registered")
MINILM = DatasetUse(entry_id="all-minilm-l6-v2", title="all-MiniLM-L6-v2", licence="Apache-2.0", access="open")
CARD = ModelProduced(name="ticket-sentiment", model_card="models/ticket-sentiment/README.md",
                     base_model="all-minilm-l6-v2", datasets=("support-tickets-sentiment",))


def make(example, **changes) -> ProjectRecord:
    fields = dict(project="acme-nlp", intended_purpose=example.purpose, answers=example.answers,
                  datasets=(TICKETS, MINILM), models=(CARD,))
    return ProjectRecord(**{**fields, **changes})


def as_dict(record: ProjectRecord) -> dict:
    return json.loads(to_json(record))


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.name)
def test_a_record_round_trips_through_json_exactly(example):
    record = make(example)
    assert record.assessment == assess(example.answers)
    text = to_json(record)
    back = from_json(text)
    assert back == record
    assert to_json(back) == text
    assert back.assessment.category == example.category


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.name)
def test_the_markdown_says_it_is_no_legal_advice_and_lists_every_checklist_item(example):
    record = make(example)
    md = to_markdown(record)
    head = md.split("## Intended purpose")[0]
    assert "not legal advice" in head and "Regulation (EU) 2024/1689" in head
    assert f"## Risk category: {example.category}" in md
    for item in record.assessment.checklist:
        assert f"- [ ] **{item.title}** ({item.article}): {item.detail}" in md
    for reason in record.assessment.reasons:
        assert reason.text in md and reason.article in md
    assert "`support-tickets-sentiment`" in md and "`CC-BY-4.0`" in md and "access registered" in md
    assert "`models/ticket-sentiment/README.md`" in md


def test_an_unfinished_record_has_no_assessment_and_names_the_next_question():
    record = ProjectRecord(project="acme-nlp", intended_purpose="Sort support tickets by sentiment.",
                           answers={"research_only": "no"})
    assert record.assessment is None
    assert record.pending_question.id == "prohibited_practice"
    assert from_json(to_json(record)) == record
    md = to_markdown(record)
    assert "not yet assessed" in md and "`prohibited_practice`" in md and "not legal advice" in md
    assert "None recorded." in md


def test_project_text_cannot_format_the_markdown_or_inject_html():
    minimal = EXAMPLES[-1]
    record = make(minimal, intended_purpose="# Heading\n<script>alert(1)</script> **bold** [x](javascript:y)",
                  datasets=(TICKETS.model_copy(update={"title": "Tickets | *starred* <img src=x>"}),),
                  models=(CARD.model_copy(update={"name": "m_1 `code`"}),))
    md = to_markdown(record)
    assert "<script>" not in md and "<img" not in md and "**bold**" not in md and "[x](javascript" not in md
    assert "\n# Heading" not in md and "\\# Heading" in md
    assert "\\*starred\\*" in md and "\\`code\\`" in md and "&lt;script&gt;" in md


def test_a_stored_assessment_must_follow_from_the_answers():
    minimal = EXAMPLES[-1]
    data = as_dict(make(minimal))
    data["assessment"]["category"] = "high-risk"  # a tampered or stale record
    with pytest.raises(RecordError) as caught:
        from_json(json.dumps(data))
    assert str(caught.value).startswith("assessment: does not follow from the answers")
    assert "they give minimal" in str(caught.value)
    data = as_dict(make(minimal))
    data["assessment"]["checklist"] = data["assessment"]["checklist"][1:]  # an item dropped
    with pytest.raises(RecordError, match="does not follow"):
        from_json(json.dumps(data))
    data = as_dict(make(minimal))
    del data["assessment"]  # left out: computed
    assert from_json(json.dumps(data)) == make(minimal)


def _set(path, value):
    def change(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return change


@pytest.mark.parametrize("change, words", [
    (_set(["answers", "research_only"], "maybe"), "answers: research_only: 'maybe' is not an answer"),
    (_set(["answers", "colour"], "blue"), "answers: colour: not a question"),
    (_set(["answers", "deepfake"], "no"), "answers: deepfake: answered, but the earlier answers do not lead to it"),
    (_set(["project"], 42), "project: Input should be a valid string"),
    (_set(["project"], "acme nlp; rm -rf"), "project: has characters"),
    (_set(["intended_purpose"], "   "), "intended_purpose: "),
    (_set(["intended_purpose"], "short"), "intended_purpose: at least 10 characters"),
    (_set(["intended_purpose"], "x" * 5001), "intended_purpose: at most 5000 characters"),
    (_set(["datasets", 0, "licence"], "CC BY 4.0"), "datasets.0.licence: has characters"),
    (_set(["datasets", 0, "entry_id"], "../etc/passwd"), "datasets.0.entry_id: has characters"),
    (_set(["datasets", 0, "access"], "secret"), "datasets.0.access: Input should be 'open', 'registered'"),
    (_set(["datasets", 1, "entry_id"], "support-tickets-sentiment"), "lists a catalogue entry twice"),
    (_set(["models", 0, "model_card"], "javascript:alert(1)"), "models.0.model_card: must be an http(s) URL"),
    (_set(["models", 0, "datasets"], ["imagenet"]), "'ticket-sentiment' names datasets the record does not list: "
                                                    "imagenet"),
    (_set(["models", 0, "datasets"], ["all-minilm-l6-v2", "all-minilm-l6-v2"]), "lists a dataset twice"),
    (_set(["models", 0, "owner"], "alice"), "models.0.owner: unknown field"),
    (_set(["format"], "factoryhub-ai-act-record/2"), "format: "),
    (lambda data: data.pop("project"), "project: required"),
])
def test_a_bad_record_is_refused_naming_the_field(change, words):
    data = as_dict(make(EXAMPLES[-1]))
    data.pop("assessment")
    change(data)
    with pytest.raises(RecordError) as caught:
        from_json(json.dumps(data))
    assert isinstance(caught.value, ValueError)
    assert words in str(caught.value), str(caught.value)


def test_not_json_is_a_record_error():
    with pytest.raises(RecordError, match="Invalid JSON"):
        from_json("{not json")


def test_constructing_a_bad_record_raises_a_validation_error_naming_the_question():
    with pytest.raises(ValidationError) as caught:
        ProjectRecord(project="acme-nlp", intended_purpose="Sort support tickets.",
                      answers={"research_only": "perhaps"})
    assert "research_only: 'perhaps'" in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_urls_and_paths_are_model_cards():
    for card in ("https://models.factory.example.eu/acme/card.md", "models/x/README.md", "/home/alice/card.md"):
        assert ModelProduced(name="m", model_card=card).model_card == card
    for card in ("file:///etc/passwd", "notes/card.md\n<b>", "`whoami`", ""):
        with pytest.raises(ValidationError):
            ModelProduced(name="m", model_card=card)


def test_revising_a_record_validates_again_and_reassesses():
    chatbot = next(e for e in EXAMPLES if e.name == "support chatbot")
    record = make(chatbot)
    assert record.assessment.category == "transparency"
    quiet = revise(record, answers={**chatbot.answers, "interacts_with_people": "no"})
    assert quiet.assessment.category == "minimal" and quiet.datasets == record.datasets
    with pytest.raises(RecordError, match="answers: deepfake: answered, but"):
        revise(record, answers={**chatbot.answers, "deepfake": "yes"})
    with pytest.raises(RecordError, match="assessment: follows from the answers"):
        revise(record, assessment=None)
    with pytest.raises(RecordError) as caught:
        revise(record, datasets=())
    assert caught.value.problems == [("models", "'ticket-sentiment' names datasets the record does not list: "
                                                "support-tickets-sentiment")]
    assert parse_record(json.loads(to_json(record))) == record
