"""A project's AI-Act record as Markdown: what a member reads, prints or attaches to a report.

It opens by saying that it is an aid to the project's own assessment, not legal advice. Text the
project wrote (purpose, titles, terms) is escaped so that it can neither format the document nor
inject HTML; the questionnaire's and the checklist's own texts are ours and written as they are.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .checklist import packaged_checklist
from .questionnaire import next_question, walk

if TYPE_CHECKING:
    from .record import ProjectRecord

DISCLAIMER = (
    "**This record is an aid to the project's own assessment under the EU AI Act (Regulation (EU) 2024/1689); it "
    "is not legal advice.** It was produced from a guided questionnaire that simplifies the Regulation; the "
    "project remains responsible for its assessment and should seek legal advice where an obligation is unclear.")
REGULATION_URL = "https://eur-lex.europa.eu/eli/reg/2024/1689/oj"
_SPECIAL = re.compile(r"([\\`*_{}\[\]|~!#])")
_LINE_START = re.compile(r"^(\s*)([-+>=]|\d+[.)])", re.M)


def escape(text: str) -> str:
    """Project-written text as literal Markdown: formatting characters and HTML escaped, lines kept."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")  # no HTML, no autolinks
    text = _SPECIAL.sub(r"\\\1", text)
    return _LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), text)


def inline(text: str) -> str:
    """Project-written text on one line (a list item), escaped."""
    return escape(" ".join(text.split()))


def _assessment(record: ProjectRecord) -> list[str]:
    assessment = record.assessment
    if assessment is None:
        pending = next_question(record.answers)
        return ["## Risk category: not yet assessed", "",
                f"The questionnaire is not finished. Next question (`{pending.id}`): {pending.text}", ""]
    checklist = packaged_checklist()
    lines = [f"## Risk category: {assessment.category}", "",
             f"Questionnaire version {assessment.questionnaire_version}."]
    if assessment.flags:
        lines += ["", "Further obligations:", ""]
        lines += [f"- {checklist.flag_label(flag)}" for flag in assessment.flags]
    lines += ["", "### Why", ""]
    lines += [f"- {reason.text} ({reason.article}; question `{reason.question}`: `{reason.answer}`)"
              for reason in assessment.reasons]
    lines += ["", "## Documentation checklist", ""]
    lines += [f"- [ ] **{item.title}** ({item.article}): {item.detail}" for item in assessment.checklist]
    return [*lines, ""]


def _answers(record: ProjectRecord) -> list[str]:
    lines = ["## Answers", ""]
    path, _ = walk(record.answers)  # in the order they were asked
    lines += [f"- {question.text} **{question.label(option.value)}**" for question, option in path]
    return [*lines, ""] if record.answers else [*lines, "No answers yet.", ""]


def _datasets(record: ProjectRecord) -> list[str]:
    lines = ["## Datasets used", ""]
    for d in record.datasets:
        terms = f"; terms: {inline(d.terms)}" if d.terms else ""
        lines.append(f"- **{inline(d.title)}** (catalogue entry `{d.entry_id}`): licence `{d.licence}`, "
                     f"access {d.access}{terms}")
    return [*lines, ""] if record.datasets else [*lines, "None recorded.", ""]


def _models(record: ProjectRecord) -> list[str]:
    lines = ["## Models produced", ""]
    for m in record.models:
        card = f"<{m.model_card}>" if m.model_card.startswith(("http://", "https://")) else f"`{m.model_card}`"
        base = f"; base model: {inline(m.base_model)}" if m.base_model else ""
        data = f"; trained on {', '.join(f'`{d}`' for d in m.datasets)}" if m.datasets else ""
        lines.append(f"- **{inline(m.name)}**: model card {card}{base}{data}")
    return [*lines, ""] if record.models else [*lines, "None recorded.", ""]


def to_markdown(record: ProjectRecord) -> str:
    """The record as a Markdown document: disclaimer first, then purpose, category, reasons, checklist,
    answers, datasets and models."""
    lines = [f"# AI Act project record: {inline(record.project)}", "", f"> {DISCLAIMER}", "",
             f"Regulation: <{REGULATION_URL}>", "", "## Intended purpose", "", escape(record.intended_purpose), ""]
    for part in (_assessment, _answers, _datasets, _models):
        lines += part(record)
    return "\n".join(lines).rstrip("\n") + "\n"
