"""The AI-Act record page of a project: members read it, its PI and admins edit it through forms.

The guided questionnaire is a server-rendered form: the next question is asked until the answers
decide the category; an answer already given can be changed (the answers it no longer leads to are
dropped, :func:`factoryhub.ai_act.questionnaire.prune`). Datasets and models are added and removed
one at a time. Every form goes through the record's own validation and the same audited save as
the API (ai_act_records.save); a refusal re-renders the page with the problem, writing nothing.
"""
from __future__ import annotations

from urllib.parse import quote

from tornado import web

from factoryhub.ai_act.checklist import packaged_checklist
from factoryhub.ai_act.questionnaire import prune, walk
from factoryhub.ai_act.record import ProjectRecord, RecordError, parse_record

from . import ai_act_records as records
from .pages import PageHandler

ACTIONS = ("purpose", "answer", "add-dataset", "remove-dataset", "add-model", "remove-model")


class AiActPage(PageHandler):
    """GET ai-act/{account}: the record, its questionnaire, assessment, checklist, datasets and models;
    POST: one change by the project's PI or an admin."""

    @web.authenticated
    def get(self, account):
        self.render_record(account, message="Saved." if self.get_argument("saved", "") else "", kind="success")

    def render_record(self, account: str, status: int = 200, message: str = "", kind: str = "info",
                      form: dict | None = None):
        with self.db.read() as session:
            project = self.may_read(session, account)
            try:
                found = records.stored(session, project)
            except records.StoredRecordError as err:
                found, message, kind = None, str(err), "danger"
            can_edit = records.may_edit(project, self.username, self.is_admin)
            pi, updated = project.pi, (found[0].updated_at, found[0].updated_by) if found else None
        record = found[1] if found else None
        path, pending = walk(record.answers) if record else ((), None)
        self.page("ai_act.html", status, message, kind, title=f"AI Act record of {account}", account=account,
                  pi=pi, record=record, path=path, pending=pending, updated=updated, can_edit=can_edit,
                  checklist=packaged_checklist(), form=form or {})

    @web.authenticated
    def post(self, account):
        action = self.get_body_argument("action", "")
        form = {name: self.get_body_argument(name, "") for name in self.request.body_arguments}
        problem = ""
        with self.db.write() as session:  # a refusal raises before save: nothing is written
            project = self.may_read(session, account)
            if not records.may_edit(project, self.username, self.is_admin):
                raise web.HTTPError(403, f"only the PI of project {account} and admins edit its AI-Act record")
            try:
                current = records.stored(session, project)
                records.save(session, self.actor, project, changed(current[1] if current else None, account,
                                                                   action, form))
            except RecordError as err:
                problem = "{}: {}".format(*records.named_question(*err.problems[0]))
            except (ValueError, records.StoredRecordError) as err:
                problem = str(err)
        if problem:
            return self.render_record(account, 400, f"Not saved — {problem}", "danger", form)
        self.redirect(f"{self.settings['service_prefix']}ai-act/{quote(account, safe='')}?saved=1")


def changed(record: ProjectRecord | None, account: str, action: str, form: dict) -> ProjectRecord:
    """The record after one form's change; :class:`RecordError` (a ValueError) naming the problem."""
    if action not in ACTIONS:
        raise RecordError([("action", f"must be one of {', '.join(ACTIONS)}")])
    if record is None and action != "purpose":
        raise RecordError([("intended_purpose", "write the project's intended purpose first")])
    data = record.model_dump(exclude={"assessment"}) if record else {"project": account, "answers": {}}
    if action == "purpose":
        data["intended_purpose"] = form.get("intended_purpose", "")
    elif action == "answer":
        question = form.get("question", "")
        data["answers"] = prune({**data["answers"], question: form.get("value", "")})
    elif action == "add-dataset":
        data["datasets"] = [*data["datasets"], {key: form.get(key, "") for key in
                                                ("entry_id", "title", "licence", "access", "terms")}]
    elif action == "remove-dataset":
        gone = form.get("entry_id", "")
        data["datasets"] = [d for d in data["datasets"] if d["entry_id"] != gone]
        data["models"] = [{**m, "datasets": [d for d in m["datasets"] if d != gone]} for m in data["models"]]
    elif action == "add-model":
        used = [d.strip() for d in form.get("datasets", "").split(",") if d.strip()]
        data["models"] = [*data["models"], {"name": form.get("name", ""), "model_card": form.get("model_card", ""),
                                            "base_model": form.get("base_model", ""), "datasets": used}]
    else:  # remove-model
        data["models"] = [m for m in data["models"] if m["name"] != form.get("name", "")]
    return parse_record(data)


def routes(prefix: str, account: str, args: dict) -> list:
    """The record page's URL pattern below ``prefix``."""
    return [(rf"{prefix}ai-act/{account}", AiActPage, args)]
