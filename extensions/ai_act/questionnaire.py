"""The guided AI-Act questionnaire: which question comes next, and what a complete set of answers concludes.

The questions are data (questionnaire.yaml beside this file); this module reads and checks them,
walks a set of answers from the first question, and turns a complete path into an
:class:`~factoryhub.ai_act.assessment.Assessment`. Answers are a mapping of question id to answer
value (``{"research_only": "no", "prohibited_practice": "none", ...}``). Only the questions on the
path the earlier answers choose are asked; bad answers raise an :class:`AnswerError` naming the
question, never a silent default. Pure functions: a service calls them directly.

An aid to a project's own assessment under Regulation (EU) 2024/1689, not legal advice.
"""
from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import yaml
from pydantic import Field, ValidationError, model_validator

from .assessment import KEY, Assessment, Category, Reason, Value
from .checklist import Checklist, DataError, packaged_checklist

QUESTIONNAIRE_FILE = Path(__file__).with_name("questionnaire.yaml")


class AnswerError(ValueError):
    """Answers the questionnaire cannot take; ``question`` names the question at fault."""

    def __init__(self, question: str, message: str):
        super().__init__(f"{question}: {message}")
        self.question = question


class UnknownQuestion(AnswerError):
    """An answer to a question id the questionnaire does not have."""


class InvalidAnswer(AnswerError):
    """An answer value the question does not offer."""


class UnansweredQuestion(AnswerError):
    """A question on the path is not answered yet."""


class IrrelevantAnswer(AnswerError):
    """An answer to a question the earlier answers do not lead to (left over after a change): remove it."""


class Option(Value):
    """One answer to a question and where it leads."""

    value: str = Field(pattern=KEY)
    label: str = Field("", max_length=500, description="How the answer is shown; yes-no answers: Yes and No.")
    next: str | None = Field(None, description="The next question; none: the questionnaire ends here.")
    category: Category | None = Field(None, description="The category this answer decides, unless one already is.")
    flags: tuple[str, ...] = Field((), description="Obligation groups of checklist.yaml this answer adds.")
    reason: str = Field("", max_length=2000, description="Why, recorded in the assessment.")
    article: str = Field("", max_length=200, description="The article the reason cites; default: the question's.")

    @model_validator(mode="after")
    def _explained(self) -> Option:
        if self.category and not self.reason:
            raise ValueError(f"answer {self.value!r} decides {self.category!r} but gives no reason")
        return self


class Question(Value):
    """One question: its text, help, kind and the answers it offers."""

    id: str = Field(pattern=KEY)
    kind: Literal["yes-no", "choice"]
    text: str = Field(min_length=1, max_length=1000)
    help: str = Field(min_length=1, max_length=2000)
    article: str = Field(min_length=1, max_length=200)
    answers: tuple[Option, ...] = Field(min_length=2)

    @model_validator(mode="after")
    def _offers(self) -> Question:
        values = [option.value for option in self.answers]
        if len(set(values)) != len(values):
            raise ValueError(f"question {self.id!r} offers an answer twice: {', '.join(values)}")
        if self.kind == "yes-no" and sorted(values) != ["no", "yes"]:
            raise ValueError(f"yes-no question {self.id!r} must offer exactly yes and no, not {', '.join(values)}")
        if self.kind == "choice" and not all(option.label for option in self.answers):
            raise ValueError(f"choice question {self.id!r}: every answer needs a label")
        return self

    @property
    def values(self) -> tuple[str, ...]:
        """The answer values this question accepts."""
        return tuple(option.value for option in self.answers)

    def option(self, value: str) -> Option | None:
        """The answer ``value``, or None when the question does not offer it."""
        return next((option for option in self.answers if option.value == value), None)

    def label(self, value: str) -> str:
        """How answer ``value`` is shown: its label, or Yes/No."""
        option = self.option(value)
        return (option.label if option and option.label else value.capitalize())


class Questionnaire(Value):
    """The questions, the first one, and a version recorded with every assessment."""

    version: int = Field(ge=1)
    start: str
    questions: tuple[Question, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _walkable(self) -> Questionnaire:
        ids = [q.id for q in self.questions]
        if len(set(ids)) != len(ids):
            raise ValueError(f"question ids must be unique: {', '.join(ids)}")
        dangling = [f"{q.id}.{o.value} -> {o.next}" for q in self.questions for o in q.answers
                    if o.next and o.next not in ids]
        if self.start not in ids or dangling:
            raise ValueError(f"unknown questions: start {self.start!r}" if self.start not in ids
                             else "answers lead to unknown questions: " + ", ".join(dangling))
        self._check_paths(self.start, decided=False, seen=())
        return self

    def _check_paths(self, question_id: str, decided: bool, seen: tuple[str, ...]) -> None:
        """Every path from ``question_id`` ends, without a cycle, having decided a category."""
        if question_id in seen:
            raise ValueError("the questions form a cycle: " + " -> ".join([*seen, question_id]))
        for option in self.question(question_id).answers:
            now_decided = decided or option.category is not None
            if option.next:
                self._check_paths(option.next, now_decided, (*seen, question_id))
            elif not now_decided:
                raise ValueError(f"the path ending with {question_id}={option.value} decides no category")

    @functools.cached_property
    def _by_id(self) -> dict[str, Question]:
        return {q.id: q for q in self.questions}

    def question(self, question_id: str) -> Question:
        """The question ``question_id`` (KeyError when there is none)."""
        return self._by_id[question_id]

    def has(self, question_id: str) -> bool:
        """Whether the questionnaire has a question ``question_id``."""
        return question_id in self._by_id


def parse_questionnaire(text: str, checklist: Checklist, source: str = "questionnaire.yaml") -> Questionnaire:
    """A questionnaire from its YAML text, checked against ``checklist`` (every flag has a group); a
    :class:`DataError` naming the file and the problem."""
    try:
        questionnaire = Questionnaire.model_validate(yaml.safe_load(text))
    except (ValidationError, yaml.YAMLError) as err:
        raise DataError(f"{source}: {err}") from None
    unknown = sorted({f"{q.id}.{o.value}: {flag}" for q in questionnaire.questions for o in q.answers
                      for flag in o.flags if flag not in checklist.flags})
    if unknown:
        raise DataError(f"{source}: flags without a group in the checklist: {', '.join(unknown)}")
    return questionnaire


@functools.cache
def packaged_questionnaire() -> Questionnaire:
    """The questionnaire shipped with FactoryHub (read and checked once)."""
    return parse_questionnaire(QUESTIONNAIRE_FILE.read_text(encoding="utf-8"), packaged_checklist(),
                               str(QUESTIONNAIRE_FILE))


def walk(answers: Mapping[str, str], questionnaire: Questionnaire | None = None
         ) -> tuple[tuple[tuple[Question, Option], ...], Question | None]:
    """The answered path from the first question, and the first question on it still unanswered (None:
    the path is complete). Unknown ids and values the question does not offer raise; answers off the
    path are not looked at (see :func:`prune`)."""
    q = questionnaire or packaged_questionnaire()
    if not isinstance(answers, Mapping):
        raise TypeError(f"answers must be a mapping of question id to answer, not {type(answers).__name__}")
    for question_id in answers:
        if not isinstance(question_id, str) or not q.has(question_id):
            raise UnknownQuestion(str(question_id), f"not a question of the questionnaire (version {q.version})")
    path: list[tuple[Question, Option]] = []
    question_id: str | None = q.start
    while question_id is not None:
        question = q.question(question_id)
        if question_id not in answers:
            return tuple(path), question
        value = answers[question_id]
        option = question.option(value) if isinstance(value, str) else None
        if option is None:
            raise InvalidAnswer(question_id, f"{value!r} is not an answer to this question; "
                                             f"it takes one of: {', '.join(question.values)}")
        path.append((question, option))
        question_id = option.next
    return tuple(path), None


def prune(answers: Mapping[str, str], questionnaire: Questionnaire | None = None) -> dict[str, str]:
    """Only the answers on the path the earlier answers choose (what is left when one answer changes)."""
    path, _ = walk(answers, questionnaire)
    return {question.id: option.value for question, option in path}


def _strays(answers: Mapping[str, str], path, pending: Question | None, q: Questionnaire) -> None:
    asked = {question.id for question, _ in path}
    strays = [question.id for question in q.questions if question.id in answers and question.id not in asked]
    if strays:
        why = (f"{pending.id}, unanswered, decides first whether it is asked" if pending
               else "the earlier answers do not lead to it; remove it")
        raise IrrelevantAnswer(strays[0], f"answered, but {why}")


def next_question(answers: Mapping[str, str], questionnaire: Questionnaire | None = None) -> Question | None:
    """The next question to ask given ``answers``, or None when they are complete (then :func:`assess`)."""
    q = questionnaire or packaged_questionnaire()
    path, pending = walk(answers, q)
    _strays(answers, path, pending, q)
    return pending


def assess(answers: Mapping[str, str], questionnaire: Questionnaire | None = None,
           checklist: Checklist | None = None) -> Assessment:
    """The assessment a complete set of answers concludes: the first category decided on the path, the
    obligation flags of every answer, the reasons (question, answer, article) and the checklist."""
    q = questionnaire or packaged_questionnaire()
    path, pending = walk(answers, q)
    if pending is not None:
        raise UnansweredQuestion(pending.id, f"not answered: {pending.text}")
    _strays(answers, path, pending, q)
    category, flags, reasons = None, [], []
    for question, option in path:
        decides = option.category is not None and category is None
        category = option.category if decides else category
        flags += [flag for flag in option.flags if flag not in flags]
        # a category decided earlier stands; an answer that adds obligations still says why
        if option.reason and (decides or option.category is None or option.flags):
            reasons.append(Reason(question=question.id, answer=option.value,
                                  article=option.article or question.article, text=option.reason))
    if category is None:  # parse_questionnaire checks every path decides one
        raise DataError(f"questionnaire version {q.version}: the path {list(answers)} decides no category")
    items = (checklist or packaged_checklist()).items_for(category, tuple(flags))
    return Assessment(category=category, flags=tuple(flags), reasons=tuple(reasons), checklist=items,
                      questionnaire_version=q.version)
