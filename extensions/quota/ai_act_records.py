"""A project's AI-Act record in the ledger: read it, change it (audited), and who may do which.

The record itself, its validation, assessment and exports are :mod:`factoryhub.ai_act`'s; this
module stores one record per project (table ai_act_records), appends every change to the audit
log with the record before and after, and says who may read (the project's members, readers of
every project) and who may edit (the project's PI, named by ``projects.pi``, and admins).
"""
from __future__ import annotations

import json
import re

from sqlalchemy.orm import Session

from factoryhub.ai_act.questionnaire import Question
from factoryhub.ai_act.record import ProjectRecord, RecordError, from_json, parse_record

from .models import AiActRecord, AuditEntry, Project

ENTITY = "ai-act-record"
_QUESTION_PROBLEM = re.compile(r"([a-z][a-z0-9_-]{0,63}): (.*)", re.S)


class StoredRecordError(ValueError):
    """A stored record the current questionnaire no longer accepts (changed since it was saved)."""


def stored(session: Session, project: Project) -> tuple[AiActRecord, ProjectRecord] | None:
    """The project's stored row and its record, or None when it has none yet;
    :class:`StoredRecordError` when the stored answers no longer fit the questionnaire."""
    row = session.get(AiActRecord, project.id)
    if row is None:
        return None
    try:
        return row, parse_record(row.document)
    except RecordError as err:
        raise StoredRecordError(f"the stored AI-Act record of {project.account} no longer fits the current "
                                f"questionnaire ({err}); its PI or an admin saves its answers again") from None


def read_body(raw: bytes, account: str) -> ProjectRecord:
    """A PUT body as a record of ``account``, read strictly; ``project`` may be left out. A
    :class:`RecordError` whose first problem names the field (``answers.<question>`` for an answer)."""
    try:
        data = json.loads(raw) if raw else None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise RecordError([("body", "is not JSON")]) from None
    if not isinstance(data, dict):
        raise RecordError([("body", "must be a JSON object (the record)")])
    data.setdefault("project", account)
    if not isinstance(data["project"], str) or data["project"].strip() != account:
        raise RecordError([("project", f"must be the project of the path ({account})")])
    try:
        return from_json(json.dumps(data))
    except RecordError as err:
        raise RecordError([named_question(field, reason) for field, reason in err.problems]) from None


def named_question(field: str, reason: str) -> tuple[str, str]:
    """A problem with the answers names the question: ("answers", "q: why") -> ("answers.q", "why")."""
    if field == "answers" and (match := _QUESTION_PROBLEM.fullmatch(reason)):
        return f"answers.{match.group(1)}", match.group(2)
    return field, reason


def document(record: ProjectRecord) -> dict:
    """The record as the JSON document stored and audited (assessment included)."""
    return record.model_dump(mode="json")


def save(session: Session, actor: str, project: Project, record: ProjectRecord) -> tuple[AiActRecord, bool]:
    """Store ``record`` as the project's (creating or replacing it) and audit before and after; the
    row and whether it was created. Nothing is written or audited when it does not change."""
    row = session.get(AiActRecord, project.id, with_for_update=True)
    after = document(record)
    if row is not None and row.document == after:
        return row, False
    before = None if row is None else row.document
    if row is None:
        row = AiActRecord(project_id=project.id, document=after, updated_by=actor)
        session.add(row)
    else:
        row.document, row.updated_by = after, actor
    session.flush()
    session.add(AuditEntry(actor=actor, action="create" if before is None else "update", entity=ENTITY,
                           entity_id=project.account, before=before, after=after))
    return row, before is None


def may_edit(project: Project, username: str | None, is_admin: bool) -> bool:
    """Whether the caller edits the project's record: an admin, or the hub user named its PI."""
    return is_admin or (username is not None and project.pi != "" and username == project.pi)


def question_json(question: Question | None) -> dict | None:
    """A question as the API and the guided form show it: id, kind, text, help, article, answers."""
    if question is None:
        return None
    return {"id": question.id, "kind": question.kind, "text": question.text, "help": question.help,
            "article": question.article,
            "answers": [{"value": o.value, "label": question.label(o.value)} for o in question.answers]}


def envelope(project: Project, row: AiActRecord, record: ProjectRecord, can_edit: bool) -> dict:
    """GET ai-act's answer: the record, the next question while unfinished, who changed it last, when."""
    return {"account": project.account, "pi": project.pi, "record": document(record),
            "next_question": question_json(record.pending_question), "updated_at": row.updated_at.isoformat(),
            "updated_by": row.updated_by, "can_edit": can_edit}
