"""Upgrading a site: databases made by the previous release's schema are migrated and served.

The previous release is frozen below (there are no tags yet): the services' Alembic revisions as
that release left them, and JupyterHub's own schema as ``jupyterhub`` 6.1.1 creates it. The test
builds those databases with realistic rows, runs ``jupyterhub upgrade-db`` and starts the hub, as
docs/upgrading.md tells an operator to.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import subprocess
import sys

import pytest
import requests
from alembic import command
from sqlalchemy import MetaData, create_engine, insert, text

from factoryhub import servicedb
from factoryhub.catalogue.service import MIGRATIONS as CATALOGUE_MIGRATIONS
from factoryhub.quota.db import MIGRATIONS as QUOTA_MIGRATIONS
from tests.harness.databases import BACKENDS, alembic_head, site_with_databases
from tests.harness.hub import HubProcess, wait_until

pytestmark = pytest.mark.hub

# The services' schema revisions of the last release. Bump at each release (to the heads it ships),
# so that this test always upgrades from what sites actually run.
PREVIOUS_RELEASE = {"quota": "0004", "catalogue": "0001"}
MIGRATIONS = {"quota": QUOTA_MIGRATIONS, "catalogue": CATALOGUE_MIGRATIONS}
VERSION_TABLES = {"quota": "alembic_version", "catalogue": "catalogue_alembic_version"}
TERMS = "Use for research on this cluster only; no re-identification."


def database_urls(backend: str, request, state) -> dict[str, str]:
    if backend == "sqlite":
        return {name: f"sqlite:///{state / f'{name}.sqlite'}" for name in ("hub", "quota", "catalogue")}
    server = request.getfixturevalue("postgres_server")
    return {name: server.database() for name in ("hub", "quota", "catalogue")}


def migrate_to(service: str, url: str, revision: str) -> None:
    """The service's own migration environment, stopped at ``revision``."""
    command.upgrade(servicedb.alembic_config(url, MIGRATIONS[service]), revision)


def insert_rows(url: str, rows: dict[str, list[dict]]) -> None:
    """Rows written through the tables as they are (reflected), as the old code's ORM wrote them: ids from
    the database's own sequences (each table's first row is id 1 in a new database)."""
    engine = create_engine(url)
    try:
        tables = MetaData()
        tables.reflect(engine)
        with engine.begin() as connection:
            for table, values in rows.items():
                connection.execute(insert(tables.tables[table]), values)
    finally:
        engine.dispose()


def query(url: str, sql: str) -> list[tuple]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql))]
    finally:
        engine.dispose()


def build_previous_release(urls: dict[str, str], now: dt.datetime) -> None:
    """The hub, quota and catalogue databases as the previous release left them, in use."""
    from jupyterhub import orm

    hub = orm.new_session_factory(urls["hub"])()  # what `jupyterhub` does on its first start
    hub.add(orm.User(name="researcher"))
    hub.commit()
    hub.close()
    hub.get_bind().dispose()

    migrate_to("quota", urls["quota"], PREVIOUS_RELEASE["quota"])
    today = now.date()
    insert_rows(urls["quota"], {
        "projects": [{"account": "proj-climate", "title": "Climate downscaling", "track": "scaling",
                      "sector": "research", "contact": "pi@uni.example", "created_at": now, "updated_at": now}],
        "members": [{"project_id": 1, "username": "researcher"}],
        "allocations": [{"project_id": 1, "gpu_seconds": 100 * 3600, "cpu_seconds": 0,
                         "starts_on": today - dt.timedelta(days=30), "ends_on": today + dt.timedelta(days=365),
                         "notes": "first grant", "created_at": now}],
        # one finished job (1 GPU-hour), imported before 0004's fingerprint existed
        "usage_records": [{"cluster": "factory", "job_id": "1001", "account": "proj-climate",
                           "username": "researcher", "partition": "gpu", "state": "COMPLETED",
                           "start_at": now - dt.timedelta(hours=3), "end_at": now - dt.timedelta(hours=2),
                           "gpus": 1, "cpus": 8, "elapsed_seconds": 3600, "gpu_seconds": 3600,
                           "cpu_seconds": 8 * 3600, "fingerprint": None}],
        "usage_days": [{"account": "proj-climate", "day": (now - dt.timedelta(hours=3)).date(),
                        "gpu_seconds": 3600, "cpu_seconds": 8 * 3600, "jobs": 1}],
        # a session that ended before the upgrade; accounting has not imported its job yet: 2 GPU-hours held
        "holds": [{"project_id": 1, "username": "researcher", "server_name": "", "job_id": "1002",
                   "gpu_seconds": 2 * 3600, "state": "settled", "created_at": now - dt.timedelta(hours=1),
                   "expires_at": now + dt.timedelta(days=1), "closed_at": now - dt.timedelta(minutes=10)}],
        "audit_log": [{"at": now, "actor": "admin", "action": "create", "entity": "project",
                       "entity_id": "proj-climate", "before": None, "after": {"account": "proj-climate"}}],
    })

    migrate_to("catalogue", urls["catalogue"], PREVIOUS_RELEASE["catalogue"])
    insert_rows(urls["catalogue"], {
        "access_requests": [{"entry_id": "hospital-chest-xray-cohort",
                             "entry_title": "Hospital chest X-ray cohort", "groups": ["clinical-imaging"],
                             "username": "researcher", "justification": "Training a triage model for the ward.",
                             "terms": TERMS, "terms_sha256": hashlib.sha256(TERMS.encode()).hexdigest(),
                             "state": "pending", "created_at": now - dt.timedelta(days=1), "decided_at": None,
                             "decided_by": None, "decision_note": ""}],
        "catalogue_audit": [{"at": now - dt.timedelta(days=1), "actor": "researcher", "action": "request",
                             "entry_id": "hospital-chest-xray-cohort", "username": "researcher", "request_id": 1,
                             "details": {}}],
    })


@pytest.fixture(params=BACKENDS)
def upgraded_hub(request, tmp_path):
    """A hub started on the previous release's databases after `jupyterhub upgrade-db`."""
    state = tmp_path / ".factoryhub"
    state.mkdir(mode=0o700)
    urls = database_urls(request.param, request, state)
    build_previous_release(urls, servicedb.utcnow().replace(tzinfo=None))
    hub = HubProcess(tmp_path, site_file=site_with_databases(tmp_path, urls))
    upgrade = subprocess.run([sys.executable, "-m", "jupyterhub", "upgrade-db", "-f", str(hub.config_file)],
                             cwd=tmp_path, env=hub.env(), capture_output=True, text=True, timeout=120)
    assert upgrade.returncode == 0, upgrade.stderr
    assert "Traceback" not in upgrade.stderr
    with hub:
        yield hub, urls


def test_the_previous_release_is_upgraded_and_served(upgraded_hub):
    hub, urls = upgraded_hub
    admin = {"Authorization": f"token {hub.api_token('admin')}"}
    quota = f"{hub.url}/services/factoryhub-quota/api/v1"
    wait_until(lambda: requests.get(f"{quota}/health", timeout=2).status_code == 200, 60, "quota service")

    for service, url in urls.items():
        if service != "hub":
            assert query(url, f"SELECT version_num FROM {VERSION_TABLES[service]}") == \
                [(alembic_head(MIGRATIONS[service]),)], service
    # the hub's user from before the upgrade, through the hub's API
    assert requests.get(f"{hub.url}/hub/api/users/researcher", headers=admin, timeout=10).status_code == 200

    project = requests.get(f"{quota}/projects/proj-climate", headers=admin, timeout=30)
    assert project.status_code == 200, project.text
    project = project.json()
    assert project["members"] == ["researcher"]
    assert [a["notes"] for a in project["allocations"]] == ["first grant"]
    # the old settled hold has no charge (0005's column is NULL) and counts its reservation, as before
    assert query(urls["quota"], "SELECT charged_gpu_seconds FROM holds WHERE id = 1") == [(None,)]
    assert (project["allocated_gpu_hours"], project["used_gpu_hours"], project["held_gpu_hours"],
            project["remaining_gpu_hours"]) == (100, 1, 2, 97)

    # the upgraded ledger settles a new hold at its charge (0005) beside the old one
    sessions = {"Authorization": f"token {(hub.state_dir / 'quota-sessions-token').read_text().strip()}"}
    held = requests.post(f"{quota}/holds", headers=sessions, timeout=30, json={
        "account": "proj-climate", "username": "researcher", "gpus": 1, "walltime_hours": 1})
    assert held.status_code == 201, held.text
    hold = held.json()["hold_id"]
    linked = requests.post(f"{quota}/holds/{hold}/job", headers=sessions, timeout=30, json={"job_id": "1003"})
    assert linked.status_code == 200 and linked.json()["linked"], linked.text
    closed = requests.post(f"{quota}/holds/{hold}/close", headers=sessions, timeout=30,
                           json={"ran": True, "charged_gpu_hours": 0.25})
    assert closed.status_code == 200 and closed.json()["closed"], closed.text
    project = requests.get(f"{quota}/projects/proj-climate", headers=admin, timeout=30).json()
    assert (project["held_gpu_hours"], project["remaining_gpu_hours"]) == (2.25, 96.75)

    catalogue = f"{hub.url}/services/factoryhub-catalogue/api/v1"
    mine = requests.get(f"{catalogue}/requests", timeout=30,
                        headers={"Authorization": f"token {hub.api_token('researcher')}"})
    assert mine.status_code == 200, mine.text
    assert [(r["id"], r["entry_id"], r["state"]) for r in mine.json()["requests"]] == \
        [(1, "hospital-chest-xray-cohort", "pending")]


def stamp(url: str, table: str, revision: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text(f"UPDATE {table} SET version_num = :revision"), {"revision": revision})
    finally:
        engine.dispose()


def test_a_database_newer_than_the_code_stops_the_service_with_one_line(tmp_path):
    url = f"sqlite:///{tmp_path / 'quota.sqlite'}"
    migrate_to("quota", url, "head")
    stamp(url, "alembic_version", "0099")
    service = subprocess.run([sys.executable, "-m", "factoryhub.quota.service", f"--db-url={url}", "--import-every=0"],
                             cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert service.returncode == 1
    assert "Traceback" not in service.stderr
    problem = [line for line in service.stderr.splitlines() if "0099" in line]
    assert problem == [f"factoryhub-quota: the database {url} is at schema revision 0099, which this FactoryHub "
                       f"does not know (its newest is {alembic_head(QUOTA_MIGRATIONS)}): a newer FactoryHub has "
                       "migrated it. Install that version again, or restore the backup taken before the upgrade "
                       "(docs/upgrading.md)."]
    assert query(url, "SELECT version_num FROM alembic_version") == [("0099",)]  # nothing was touched


def test_the_catalogue_refuses_a_newer_database_too(tmp_path):
    url = f"sqlite:///{tmp_path / 'catalogue.sqlite'}"
    migrate_to("catalogue", url, "head")
    stamp(url, "catalogue_alembic_version", "0042")
    database = servicedb.Database(url, CATALOGUE_MIGRATIONS)
    try:
        with pytest.raises(servicedb.SchemaNewerThanCode) as refused:
            database.upgrade()
    finally:
        database.dispose()
    assert refused.value.revisions == ["0042"]
    assert str(refused.value).startswith("factoryhub-catalogue: the database")
