"""A project's AI-Act record: what it builds, from which data, and under which obligations.

:class:`ProjectRecord` is typed and validated (unknown keys refused, text bounded, catalogue ids
and licences in the catalogue's own formats, a model's datasets among the record's). Its
assessment always follows from its answers: left out, it is computed; given, it must match, so a
stored record cannot claim a category its answers do not give. While the questionnaire is
unfinished the assessment is None. :func:`to_json` and :func:`from_json` round-trip exactly;
:func:`~factoryhub.ai_act.markdown.to_markdown` writes the human-readable export.

An aid to the project's own assessment under Regulation (EU) 2024/1689, not legal advice.
"""
from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from factoryhub.site.model import SlurmName
from factoryhub.webservice import Text

from .assessment import KEY, Assessment
from .markdown import to_markdown
from .questionnaire import Question, assess, next_question, walk

__all__ = ["DatasetUse", "ModelProduced", "ProjectRecord", "RecordError", "from_json", "parse_record", "revise",
           "to_json", "to_markdown"]

# The catalogue's formats (factoryhub.catalogue.entries.ENTRY_ID, entry.schema.json's spdx and access);
# a unit test holds them equal, since this package may not import the catalogue service.
ENTRY_ID = r"^[a-z0-9][a-z0-9._-]{0,99}$"
SPDX = r"^([A-Za-z0-9][A-Za-z0-9.+-]{0,63}|LicenseRef-[A-Za-z0-9.-]{1,64})$"
Access = Literal["open", "registered", "restricted"]
EntryId = Annotated[str, Field(pattern=ENTRY_ID, description="A catalogue entry id, e.g. support-tickets-sentiment")]
Title = Text(200, min_length=1, pattern=r"\S")
URL = re.compile(r"https?://[^\s<>\"`]{1,490}")
# a relative or absolute path to a model card in the project's storage; no scheme, quote or control character
CARD_PATH = re.compile(r"[A-Za-z0-9_.~/+-][A-Za-z0-9_.~/+@=, -]{0,499}")


def _model_card(value: str) -> str:
    if URL.fullmatch(value) or (CARD_PATH.fullmatch(value) and not value.endswith(" ")):
        return value
    raise ValueError("must be an http(s) URL or a path to the card (letters, digits, '_', '.', '~', '/', '+', "
                     "'@', '=', ',', '-' and spaces), at most 500 characters")


ModelCard = Annotated[str, Field(max_length=500), AfterValidator(_model_card)]


class RecordError(ValueError):
    """A record that does not validate: one line per problem, each naming the field."""

    def __init__(self, problems: list[tuple[str, str]]):
        super().__init__("\n".join(f"{field}: {reason}" for field, reason in problems))
        self.problems = problems


class Part(BaseModel):
    """Base of the record's parts: unknown keys refused, text stripped, immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class DatasetUse(Part):
    """A catalogue entry the project uses, with the licence and access terms it was lent under."""

    entry_id: EntryId
    title: Title
    licence: str = Field(pattern=SPDX, description="SPDX id or LicenseRef-<name>, as the catalogue entry states")
    access: Access = Field(description="The entry's access level: open, registered or restricted")
    terms: Text(5000) = Field("", description="The access terms the project acknowledged, if any")


class ModelProduced(Part):
    """A model the project produced, its model card, its base model and the datasets it was trained on."""

    name: Title
    model_card: ModelCard = Field(description="URL or path of the model card, e.g. models/sentiment/README.md")
    base_model: Text(200) = Field("", description="The model it was fine-tuned from (a catalogue id or a name)")
    datasets: tuple[EntryId, ...] = Field((), max_length=100, description="Catalogue ids of its training data")

    @field_validator("datasets")
    @classmethod
    def _distinct(cls, ids: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(ids)) != len(ids):
            raise ValueError("lists a dataset twice")
        return ids


class ProjectRecord(Part):
    """One project's AI-Act record: intended purpose, questionnaire answers, datasets, models, assessment."""

    format: Literal["factoryhub-ai-act-record/1"] = "factoryhub-ai-act-record/1"
    project: SlurmName = Field(description="The quota project (Slurm account) the record belongs to")
    intended_purpose: Text(5000, min_length=10, pattern=r"\S") = Field(
        description="What the system or model is for, by whom and in which context (Art. 3(12))")
    answers: dict[Annotated[str, Field(pattern=KEY)], Annotated[str, Field(pattern=KEY)]] = Field(
        default_factory=dict, max_length=100, description="Questionnaire answers: question id -> answer value")
    datasets: tuple[DatasetUse, ...] = Field((), max_length=1000)
    models: tuple[ModelProduced, ...] = Field((), max_length=1000)
    assessment: Assessment | None = Field(
        None, description="What the answers conclude; computed when left out, None while unfinished")

    @field_validator("answers")
    @classmethod
    def _answerable(cls, answers: dict[str, str]) -> dict[str, str]:
        next_question(answers)  # unknown ids, values and answers off the path raise, naming the question
        return answers

    @model_validator(mode="after")
    def _consistent(self) -> ProjectRecord:
        entries = [d.entry_id for d in self.datasets]
        if len(set(entries)) != len(entries):
            raise ValueError("datasets: lists a catalogue entry twice")
        names = [m.name for m in self.models]
        if len(set(names)) != len(names):
            raise ValueError("models: two models have the same name")
        for model in self.models:
            missing = [d for d in model.datasets if d not in entries]
            if missing:
                raise ValueError(f"models: {model.name!r} names datasets the record does not list: "
                                 f"{', '.join(missing)}")
        expected = assess(self.answers) if walk(self.answers)[1] is None else None
        if "assessment" not in self.model_fields_set:
            object.__setattr__(self, "assessment", expected)  # derived from validated answers, not a default
            self.model_fields_set.add("assessment")
        elif self.assessment != expected:
            raise ValueError("assessment: does not follow from the answers under the current questionnaire "
                             f"(they give {expected.category if expected else 'no category yet'}); leave it out to "
                             "have it computed")
        return self

    @property
    def pending_question(self) -> Question | None:
        """The next unanswered question, or None when the questionnaire is complete."""
        return next_question(self.answers)


def _problems(err: ValidationError) -> list[tuple[str, str]]:
    found = []
    for problem in err.errors():
        field = ".".join(str(p) for p in problem["loc"]) or "record"
        reason = {"extra_forbidden": "unknown field", "missing": "required",
                  "string_pattern_mismatch": "has characters or a length that are not allowed"}.get(
            problem["type"], re.sub(r"^Value error, ", "", problem["msg"]))
        if problem["type"] in ("too_short", "string_too_short") and isinstance(problem.get("input"), str):
            reason = f"at least {problem['ctx']['min_length']} characters"
        if not problem["loc"] and (named := re.fullmatch(r"(\w+): (.*)", reason, re.S)):  # the record's cross-checks
            field, reason = named.groups()
        found.append((field, reason))
    return found


def parse_record(data: object) -> ProjectRecord:
    """A record from Python data (a decoded request body, a database row's JSON); :class:`RecordError` on any
    problem. The assessment may be left out: it is computed from the answers."""
    try:
        return ProjectRecord.model_validate(data)
    except ValidationError as err:
        raise RecordError(_problems(err)) from None


def revise(record: ProjectRecord, **changes) -> ProjectRecord:
    """The record with ``changes`` applied and validated again, its assessment recomputed from the answers
    (``model_copy(update=...)`` would skip both)."""
    if "assessment" in changes:
        raise RecordError([("assessment", "follows from the answers; change the answers instead")])
    return parse_record({**record.model_dump(exclude={"assessment"}), **changes})


def to_json(record: ProjectRecord) -> str:
    """The record as JSON (two-space indent), assessment included; :func:`from_json` reads it back equal."""
    return record.model_dump_json(indent=2) + "\n"


def from_json(text: str | bytes) -> ProjectRecord:
    """A record from its JSON, read strictly (a number is no string); :class:`RecordError` on any problem."""
    try:
        return ProjectRecord.model_validate_json(text, strict=True)
    except ValidationError as err:
        raise RecordError(_problems(err)) from None
