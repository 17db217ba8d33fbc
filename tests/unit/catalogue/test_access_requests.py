"""Access requests on SQLite and a real PostgreSQL: refusals write nothing, decisions are recorded once,
and the audit log is append-only in the database itself."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy
from sqlalchemy import func, select, text

from factoryhub.catalogue import models
from factoryhub.catalogue.access import Viewer, terms_digest, terms_text
from factoryhub.catalogue.access_requests import (
    MAX_JUSTIFICATION,
    MIN_JUSTIFICATION,
    RequestRefused,
    as_dict,
    ask,
    audit_entries,
    decide,
    requests_of,
    withdraw,
)
from factoryhub.catalogue.models import AccessRequest, AuditEntry, RequestState
from factoryhub.servicedb import Database
from tests.harness.databases import BACKENDS, migrated_database

from .builders import entry

# the catalogue service's migrations (service.MIGRATIONS is this folder)
MIGRATIONS = Path(models.__file__).with_name("migrations")
WHY = "Training a triage model for the radiology project."
ALICE = Viewer("alice")


@pytest.fixture(params=BACKENDS)
def db(request, tmp_path):
    """A migrated, empty request database: every request test runs on SQLite and on a real PostgreSQL."""
    yield from migrated_database(request, tmp_path, lambda url: Database(url, MIGRATIONS))


def restricted(entry_id="chest-xray", **changes):
    return entry(entry_id, **{"access": "restricted", "groups": ["medical-imaging"], "personal_data": True,
                              "lawful_basis": "consent", "retention": "P10Y",
                              "terms": "Use only within the approved project.", **changes})


XRAY = restricted()
GENOMES = restricted("genomes", title="Variant calls")


def digest(wanted) -> str:
    return terms_digest(terms_text(wanted))


def counts(db) -> tuple[int, int]:
    """(access requests, audit rows)."""
    with db.read() as session:
        return (session.scalar(select(func.count()).select_from(AccessRequest)),
                session.scalar(select(func.count()).select_from(AuditEntry)))


def asked(db, wanted=XRAY, viewer=ALICE, justification=WHY) -> int:
    with db.write() as session:
        return ask(session, wanted, viewer, justification, digest(wanted)).id


def db_audit(db) -> list[dict]:
    """The audit log, newest first."""
    with db.read() as session:
        return audit_entries(session)


def refused_by(db, call) -> RequestRefused:
    """Run ``call(session)`` in a write transaction that then commits: what it wrote would be kept."""
    with db.write() as session:
        with pytest.raises(RequestRefused) as refused:
            call(session)
    return refused.value


# --- asking --------------------------------------------------------------------------------------


def test_a_good_request_is_pending_with_its_terms_and_audited(db):
    before = dt.datetime.now(dt.UTC)
    request_id = asked(db, justification="  " + WHY.replace(" for ", " \n\n\t for  ") + "  ")
    with db.read() as session:
        request = session.get(AccessRequest, request_id)
        [audit] = session.scalars(select(AuditEntry)).all()
    assert (request.entry_id, request.entry_title, request.username, request.groups) == \
        ("chest-xray", XRAY.title, "alice", ["medical-imaging"])
    assert request.justification == WHY  # blanks collapsed
    assert request.terms == terms_text(XRAY) and request.terms_sha256 == digest(XRAY)
    assert request.state is RequestState.pending
    assert (request.decided_at, request.decided_by, request.decision_note) == (None, None, "")
    assert before <= request.created_at <= dt.datetime.now(dt.UTC)
    assert (audit.actor, audit.action, audit.entry_id, audit.username, audit.request_id) == \
        ("user:alice", "request", "chest-xray", "alice", request_id)
    assert audit.details == {"justification": WHY, "terms_sha256": digest(XRAY)}
    assert as_dict(request)["state"] == "pending"


def test_a_justification_at_its_bounds_is_accepted(db):
    asked(db, justification="x" * MIN_JUSTIFICATION)
    asked(db, wanted=GENOMES, justification="y" * MAX_JUSTIFICATION)
    assert counts(db) == (2, 2)


REFUSALS = {
    "open entry": (dict(entry=entry("open-data", access="open")), 409, None),
    "registered entry": (dict(entry=entry("registered-data", access="registered")), 409, None),
    "a member who may already use it": (dict(viewer=Viewer("bob", frozenset({"medical-imaging"}))), 409, None),
    "a steward": (dict(viewer=Viewer("sue", steward=True)), 409, None),
    "too short": (dict(justification="for research"), 400, "justification"),
    "short once blanks are collapsed": (dict(justification="a" + " " * 40 + "b"), 400, "justification"),
    "short words padded apart": (dict(justification="a b c d e f g h i j k"), 400, "justification"),
    "too long": (dict(justification="z" * (MAX_JUSTIFICATION + 1)), 400, "justification"),
    "wrong digest": (dict(acknowledged="0" * 64), 409, "acknowledge_terms"),
    "digest of other terms": (dict(acknowledged=digest(restricted(retention="P1Y"))), 409, "acknowledge_terms"),
}


def test_a_refused_request_writes_nothing(db, subtests):
    # one database for all cases (a fresh PostgreSQL one costs 0.2 s): each refusal must leave it empty
    for case, (change, status, field) in REFUSALS.items():
        with subtests.test(case):
            wanted = change.get("entry", XRAY)
            viewer, justification = change.get("viewer", ALICE), change.get("justification", WHY)
            acknowledged = change.get("acknowledged", digest(wanted))
            refused = refused_by(db, lambda s: ask(s, wanted, viewer, justification, acknowledged))
            assert (refused.status, refused.field) == (status, field)
            assert refused.reason
            assert counts(db) == (0, 0)


def test_a_second_pending_request_is_refused_and_writes_nothing(db):
    first = asked(db)
    refused = refused_by(db, lambda s: ask(s, XRAY, ALICE, WHY, digest(XRAY)))
    assert refused.status == 409 and f"#{first}" in refused.reason
    assert counts(db) == (1, 1)
    asked(db, wanted=GENOMES)  # another entry, and another user, may still ask
    asked(db, viewer=Viewer("carol"))
    assert counts(db) == (3, 3)


@pytest.mark.parametrize("ending", ["reject", "withdraw"])
def test_after_a_rejection_or_withdrawal_the_user_may_ask_again(db, ending):
    first = asked(db)
    with db.write() as session:
        if ending == "reject":
            decide(session, first, "sue", approve=False, note="Project not yet approved.")
        else:
            withdraw(session, first, "alice")
    assert asked(db) != first


# --- deciding ------------------------------------------------------------------------------------


@pytest.mark.parametrize("approve, note", [(True, ""), (True, "  Welcome aboard.  "),
                                           (False, "Not within the project.")])
def test_a_decision_records_who_when_and_why(db, approve, note):
    request_id = asked(db)
    before = dt.datetime.now(dt.UTC)
    with db.write() as session:
        decide(session, request_id, "sue", approve=approve, note=note)
    with db.read() as session:
        request = session.get(AccessRequest, request_id)
        audit = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert request.state is (RequestState.approved if approve else RequestState.rejected)
    assert request.decided_by == "sue" and request.decision_note == note.strip()
    assert before <= request.decided_at <= dt.datetime.now(dt.UTC)
    assert [a.action for a in audit] == ["request", "approve" if approve else "reject"]
    assert (audit[1].actor, audit[1].request_id, audit[1].username) == ("user:sue", request_id, "alice")
    assert audit[1].details == {"note": note.strip(), "groups": ["medical-imaging"] if approve else []}


def test_a_rejection_needs_a_note_and_writes_nothing_without_one(db, subtests):
    request_id = asked(db)
    for note in ["", "   ", "no.", "\n\t  \n"]:
        with subtests.test(note=note):
            refused = refused_by(db, lambda s: decide(s, request_id, "sue", approve=False, note=note))
            assert (refused.status, refused.field) == (400, "note")
            with db.read() as session:
                assert session.get(AccessRequest, request_id).state is RequestState.pending
            assert counts(db) == (1, 1)


@pytest.mark.parametrize("first", ["approve", "reject", "withdraw"])
def test_a_closed_request_cannot_be_decided_or_withdrawn_again(db, first):
    request_id = asked(db)
    steps = {"approve": lambda s: decide(s, request_id, "sue", True, ""),
             "reject": lambda s: decide(s, request_id, "sue", False, "Not within the project."),
             "withdraw": lambda s: withdraw(s, request_id, "alice")}
    with db.write() as session:
        steps[first](session)
    with db.read() as session:
        closed = as_dict(session.get(AccessRequest, request_id))
    for second, step in steps.items():
        refused = refused_by(db, step)
        assert refused.status == 409 and "already" in refused.reason, second
    with db.read() as session:
        assert as_dict(session.get(AccessRequest, request_id)) == closed
    assert counts(db) == (1, 2)


def test_an_unknown_request_is_404(db):
    for call in (lambda s: decide(s, 999, "sue", True, ""), lambda s: withdraw(s, 999, "alice")):
        assert refused_by(db, call).status == 404
    assert counts(db) == (0, 0)


# --- withdrawing ---------------------------------------------------------------------------------


def test_only_the_requester_may_withdraw(db):
    request_id = asked(db)
    refused = refused_by(db, lambda s: withdraw(s, request_id, "mallory"))
    assert refused.status == 403
    assert counts(db) == (1, 1)
    with db.write() as session:
        withdraw(session, request_id, "alice")
    with db.read() as session:
        request = session.get(AccessRequest, request_id)
    assert (request.state, request.decided_by) == (RequestState.withdrawn, "alice")
    assert request.decided_at is not None
    assert [a["action"] for a in db_audit(db)] == ["withdraw", "request"]



# --- the audit log is append-only ----------------------------------------------------------------


def test_the_database_refuses_to_change_or_delete_audit_rows(db, subtests):
    asked(db)
    before = db_audit(db)
    for statement in ["UPDATE catalogue_audit SET actor = 'user:mallory'",
                      "UPDATE catalogue_audit SET details = '{}' WHERE id = 1",
                      "DELETE FROM catalogue_audit",
                      "DELETE FROM catalogue_audit WHERE action = 'request'"]:
        with subtests.test(statement):
            with pytest.raises(sqlalchemy.exc.DBAPIError, match="append-only"):
                with db.engine.begin() as connection:
                    connection.execute(text(statement))
            assert db_audit(db) == before


def test_an_audit_row_changed_through_the_orm_is_refused_too(db):
    asked(db)
    with pytest.raises(sqlalchemy.exc.DBAPIError, match="append-only"):
        with db.write() as session:
            session.scalars(select(AuditEntry)).one().actor = "user:mallory"
    assert db_audit(db)[0]["actor"] == "user:alice"


def test_an_audit_row_cannot_be_overwritten_by_an_insert_that_replaces_it(db):
    asked(db)
    before = db_audit(db)
    replace = {"sqlite": "INSERT OR REPLACE INTO catalogue_audit (id, at, actor, action, entry_id, username, details) "
                         "VALUES (:id, CURRENT_TIMESTAMP, 'user:mallory', 'request', 'chest-xray', 'alice', '{}')",
               "postgresql": "INSERT INTO catalogue_audit (id, at, actor, action, entry_id, username, details) "
                             "VALUES (:id, now(), 'user:mallory', 'request', 'chest-xray', 'alice', '{}') "
                             "ON CONFLICT (id) DO UPDATE SET actor = excluded.actor"}[db.engine.dialect.name]
    with pytest.raises(sqlalchemy.exc.DBAPIError):
        with db.engine.begin() as connection:
            connection.execute(text(replace), {"id": before[0]["id"]})
    assert db_audit(db) == before


@pytest.mark.postgres
def test_an_audit_log_on_postgresql_cannot_be_truncated(postgres_server):
    # PostgreSQL's TRUNCATE fires no DELETE trigger (SQLite has no TRUNCATE; its DELETE FROM is covered above)
    db = Database(postgres_server.database(), MIGRATIONS)
    try:
        db.upgrade()
        asked(db)
        with pytest.raises(sqlalchemy.exc.DBAPIError, match="append-only"):
            with db.engine.begin() as connection:
                connection.execute(text("TRUNCATE catalogue_audit"))
        assert len(db_audit(db)) == 1
    finally:
        db.dispose()


# --- listing -------------------------------------------------------------------------------------


def test_requests_of_filters_by_user_state_and_entry_newest_first(db):
    a1 = asked(db)
    a2 = asked(db, wanted=GENOMES)
    b1 = asked(db, viewer=Viewer("bob"))
    with db.write() as session:
        decide(session, a2, "sue", True, "")
        decide(session, b1, "sue", False, "Not within the project.")

    def listed(*args, **kwargs) -> list[int]:
        with db.read() as session:
            return [r.id for r in requests_of(session, *args, **kwargs)]

    assert listed(None) == [b1, a2, a1]
    assert listed("alice") == [a2, a1]
    assert listed("bob") == [b1] and listed("nobody") == []
    assert listed(None, RequestState.pending) == [a1]
    assert listed(None, RequestState.rejected) == [b1]
    assert listed("alice", RequestState.approved) == [a2]
    assert listed("alice", RequestState.rejected) == []
    assert listed(None, entry_id="chest-xray") == [b1, a1]
    assert listed("alice", entry_id="chest-xray") == [a1]
    assert listed("bob", RequestState.rejected, "chest-xray") == [b1]
    assert listed(None, limit=2) == [b1, a2]
    assert [a["action"] for a in db_audit(db)] == ["reject", "approve", "request", "request", "request"]
    with db.read() as session:
        page = audit_entries(session, before_id=db_audit(db)[1]["id"], limit=2)
    assert [a["action"] for a in page] == ["request", "request"]
