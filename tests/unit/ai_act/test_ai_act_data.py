"""The questionnaire and checklist data are checked when read: a broken file is refused with the problem
named, and the shipped files pass. The record's catalogue formats are the catalogue's own."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from factoryhub.ai_act import record
from factoryhub.ai_act.checklist import CHECKLIST_FILE, DataError, packaged_checklist, parse_checklist
from factoryhub.ai_act.questionnaire import QUESTIONNAIRE_FILE, packaged_questionnaire, parse_questionnaire
from factoryhub.catalogue.entries import ENTRY_ID

ROOT = Path(__file__).resolve().parents[3]


def questionnaire_data() -> dict:
    return yaml.safe_load(QUESTIONNAIRE_FILE.read_text())


def question(data: dict, question_id: str) -> dict:
    return next(q for q in data["questions"] if q["id"] == question_id)


def parse(data: dict):
    return parse_questionnaire(yaml.safe_dump(data), packaged_checklist(), "broken.yaml")


def test_the_shipped_data_is_consistent():
    questionnaire = packaged_questionnaire()
    assert questionnaire.start == "research_only" and questionnaire.version >= 1
    assert len(questionnaire.questions) >= 10
    articles = [q.article for q in questionnaire.questions] + [i.article for i in packaged_checklist().items.values()]
    assert all(re.match(r"(Art\.|Annex) ", a) for a in articles), articles


def _dangling(data):
    question(data, "gpai_model")["answers"][1]["next"] = "no_such_question"


def _cycle(data):
    question(data, "emotion_or_biometric")["answers"][1] = {"value": "no", "next": "interacts_with_people"}


def _undecided(data):
    question(data, "emotion_or_biometric")["answers"][1] = {"value": "no"}


def _maybe(data):
    question(data, "research_only")["answers"][1]["value"] = "maybe"


def _unknown_flag(data):
    question(data, "interacts_with_people")["answers"][0]["flags"] = ["telepathy-disclosure"]


def _unexplained(data):
    del question(data, "annex_i_product")["answers"][0]["reason"]


def _twice(data):
    data["questions"].append(dict(question(data, "deepfake")))


def _unknown_key(data):
    question(data, "deepfake")["hint"] = "typo of help"


@pytest.mark.parametrize("break_it, words", [
    (_dangling, "unknown questions: gpai_model.no -> no_such_question"),
    (_cycle, "cycle"),
    (_undecided, "the path ending with emotion_or_biometric=no decides no category"),
    (_maybe, "must offer exactly yes and no"),
    (_unknown_flag, "interacts_with_people.yes: telepathy-disclosure"),
    (_unexplained, "decides 'high-risk' but gives no reason"),
    (_twice, "unique"),
    (_unknown_key, "hint"),
])
def test_a_broken_questionnaire_is_refused_with_the_problem_named(break_it, words):
    data = questionnaire_data()
    break_it(data)
    with pytest.raises(DataError) as caught:
        parse(data)
    assert str(caught.value).startswith("broken.yaml: ")
    assert words in str(caught.value)


@pytest.mark.parametrize("break_it, words", [
    (lambda d: d["categories"].pop("minimal"), "categories: must be exactly"),
    (lambda d: d["categories"]["high-risk"].append("crystal-ball"), "categories.high-risk: 'crystal-ball' is not in"),
    (lambda d: d["flags"]["gpai"]["items"].append("crystal-ball"), "flags.gpai.items: 'crystal-ball'"),
    (lambda d: d["categories"].__setitem__("minimal", []), "categories.minimal: lists no item"),
    (lambda d: d["items"].__setitem__("Bad Id", d["items"]["ai-literacy"]), "'Bad Id' is not a valid id"),
])
def test_a_broken_checklist_is_refused_with_the_problem_named(break_it, words):
    data = yaml.safe_load(CHECKLIST_FILE.read_text())
    break_it(data)
    with pytest.raises(DataError) as caught:
        parse_checklist(yaml.safe_dump(data), "broken.yaml")
    assert words in str(caught.value)


def test_the_records_catalogue_formats_are_the_catalogues():
    schema = json.loads((ROOT / "extensions/catalogue/entry.schema.json").read_text())
    assert record.ENTRY_ID == f"^{ENTRY_ID.pattern}$"
    assert record.SPDX == schema["definitions"]["spdx"]["pattern"]
    assert list(record.Access.__args__) == schema["properties"]["access"]["enum"]
