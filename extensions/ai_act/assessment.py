"""What an answered questionnaire concludes: the risk category, why, and the documentation it requires.

Plain, immutable values (pydantic, so a record carries them to JSON and back unchanged). The
categories are those of Regulation (EU) 2024/1689; the questionnaire decides which one applies
(:mod:`factoryhub.ai_act.questionnaire`), the checklist data says what each requires
(:mod:`factoryhub.ai_act.checklist`).
"""
from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

Category = Literal["prohibited", "high-risk", "transparency", "general-purpose model", "minimal", "research-exempt"]
CATEGORIES: tuple[str, ...] = get_args(Category)
SYSTEMIC_RISK = "systemic-risk"  # the flag the questionnaire sets above 10^25 FLOP of training compute (Art. 51(2))
# A question id, an answer value, a flag or a checklist item id: lowercase words joined by '_' or '-'.
KEY = r"^[a-z][a-z0-9_-]{0,63}$"


class Value(BaseModel):
    """Base of the assessment's values: no unknown keys, immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ChecklistItem(Value):
    """One piece of documentation or one duty the category requires, with the article it comes from."""

    id: str = Field(pattern=KEY)
    title: str = Field(min_length=1, max_length=200)
    article: str = Field(min_length=1, max_length=200)
    detail: str = Field(min_length=1, max_length=2000)


class Reason(Value):
    """One answer that led to the outcome: the question, the answer given, the article and why."""

    question: str = Field(pattern=KEY)
    answer: str = Field(pattern=KEY)
    article: str = Field(min_length=1, max_length=200)
    text: str = Field(min_length=1, max_length=2000)


class Assessment(Value):
    """The outcome of a complete set of answers: category, obligation flags, reasons and checklist."""

    category: Category
    flags: tuple[str, ...] = Field(
        description="Obligations on top of the category, e.g. systemic-risk or chatbot-disclosure.")
    reasons: tuple[Reason, ...]
    checklist: tuple[ChecklistItem, ...]
    questionnaire_version: int = Field(ge=1)

    @property
    def systemic_risk(self) -> bool:
        """Whether a general-purpose model has systemic risk (more than 10^25 FLOP, or designated: Art. 51)."""
        return SYSTEMIC_RISK in self.flags
