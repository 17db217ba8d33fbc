"""The quota API's AI-Act record of a project (contract: openapi.yaml, tag ai-act).

- GET projects/{account}/ai-act: the record with its next question (members, readers of every
  project, admins; others 403); ``format=json`` or ``format=markdown`` downloads its export;
- PUT projects/{account}/ai-act: create or replace it (the project's PI and admins), validated by
  :mod:`factoryhub.ai_act.record`; every change audited with the record before and after;
- GET projects/{account}/ai-act/next-question: the question the guided form asks next (the first
  one while the project has no record), or null once the assessment is decided.
"""
from __future__ import annotations

from factoryhub.ai_act.questionnaire import next_question
from factoryhub.ai_act.record import RecordError, to_json, to_markdown
from factoryhub.webservice import ApiError, authenticated

from . import ai_act_records as records
from .api import ADMIN, ApiHandler


class AiActHandler(ApiHandler):
    """GET/PUT projects/{account}/ai-act: a project's AI-Act record and its exports."""

    def editable(self, project) -> bool:
        """Whether the caller may change the project's record (its PI, an admin)."""
        return records.may_edit(project, self.username, ADMIN in self.scopes)

    def loaded(self, session, project):
        """The stored (row, record), or a 404 while the project has none; a 409 when it no longer fits."""
        try:
            found = records.stored(session, project)
        except records.StoredRecordError as err:
            raise ApiError(409, str(err), "answers") from None
        if found is None:
            raise ApiError(404, f"project {project.account} has no AI-Act record yet; its PI or an admin creates "
                                f"one with PUT")
        return found

    @authenticated
    def get(self, account):
        export = self.choice("format", ("json", "markdown"))
        with self.db.read() as session:
            project = self.may_read(session, account)
            row, record = self.loaded(session, project)
            payload = records.envelope(project, row, record, self.editable(project))
        if export is None:
            return self.answer(payload)
        self.set_header("Content-Disposition", f'attachment; filename="{account}-ai-act.'
                                               f'{"md" if export == "markdown" else "json"}"')
        if export == "markdown":
            self.set_header("Content-Type", "text/markdown; charset=utf-8")
            return self.finish(to_markdown(record))
        self.set_header("Content-Type", "application/json")
        self.finish(to_json(record))

    @authenticated
    def put(self, account):
        with self.db.write() as session:
            project = self.may_read(session, account)
            if not self.editable(project):
                raise ApiError(403, f"only the PI of project {account} ({project.pi or 'none named'}) and admins "
                                    f"edit its AI-Act record")
            try:
                record = records.read_body(self.request.body, account)
            except RecordError as err:
                field, reason = err.problems[0]
                raise ApiError(400, f"{field}: {reason}", field) from None
            row, created = records.save(session, self.actor, project, record)
            payload = records.envelope(project, row, record, True)
        self.answer(payload, 201 if created else 200)


class NextQuestionHandler(ApiHandler):
    """GET projects/{account}/ai-act/next-question: what the guided questionnaire asks next."""

    @authenticated
    def get(self, account):
        with self.db.read() as session:
            project = self.may_read(session, account)
            try:
                found = records.stored(session, project)
            except records.StoredRecordError as err:
                raise ApiError(409, str(err), "answers") from None
        record = found[1] if found else None
        answers = record.answers if record else {}
        self.answer({"account": account, "answers": answers,
                     "question": records.question_json(next_question(answers)),
                     "category": record.assessment.category if record and record.assessment else None})


def routes(prefix: str, api: str, account: str, args: dict) -> list:
    """The record's URL patterns below ``prefix`` + ``api`` (before the API's catch-all)."""
    return [
        (rf"{prefix}{api}/projects/{account}/ai-act", AiActHandler, args),
        (rf"{prefix}{api}/projects/{account}/ai-act/next-question", NextQuestionHandler, args),
    ]
