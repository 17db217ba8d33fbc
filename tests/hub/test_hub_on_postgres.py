"""The hub's own database on PostgreSQL (and the services' too): login, spawn, reach, stop.

The embedded default with every database on the session's real PostgreSQL server; the rows land
there, no SQLite file is made, and a password in the hub's URL never reaches the log.
"""
from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from factoryhub.announcements.service import MIGRATIONS as ANNOUNCEMENTS_MIGRATIONS
from factoryhub.catalogue.service import MIGRATIONS as CATALOGUE_MIGRATIONS
from factoryhub.dashboards.service import MIGRATIONS as DASHBOARDS_MIGRATIONS
from factoryhub.quota.db import MIGRATIONS as QUOTA_MIGRATIONS
from tests.harness.databases import alembic_head, site_with_databases
from tests.harness.hub import HubProcess, descendants, wait_until

pytestmark = [pytest.mark.hub, pytest.mark.postgres]

# The test server trusts every local connection, so any password is accepted: it only has to stay out of the logs.
PASSWORD = f"pw-{secrets.token_hex(8)}"


@pytest.fixture(scope="module")
def databases(postgres_server) -> dict[str, str]:
    def with_password(url: str) -> str:
        return make_url(url).set(password=PASSWORD).render_as_string(hide_password=False)

    return {"hub": with_password(postgres_server.database()), "quota": with_password(postgres_server.database()),
            "catalogue": with_password(postgres_server.database()),
            "dashboards": with_password(postgres_server.database()),
            "announcements": with_password(postgres_server.database())}


@pytest.fixture(scope="module")
def hub(tmp_path_factory, databases):
    workdir = tmp_path_factory.mktemp("hub-on-postgres")
    with HubProcess(workdir, site_file=site_with_databases(workdir, databases)) as hub:
        yield hub


def scalar(url: str, sql: str, **params):
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text(sql), params).scalar()
    finally:
        engine.dispose()


def server_of(session: requests.Session, hub: HubProcess, user: str) -> dict | None:
    return session.get(f"{hub.url}/hub/api/users/{user}", timeout=10).json()["servers"].get("")


def test_log_in_spawn_reach_and_stop_with_the_hub_database_on_postgresql(hub, databases):
    session = hub.login("researcher")
    resp = session.post(f"{hub.url}/hub/spawn", timeout=30,
                        data={"_xsrf": session.cookies["_xsrf"], "profile": "notebook-small", "walltime_hours": "1"})
    assert resp.status_code == 200
    wait_until(lambda: (server_of(session, hub, "researcher") or {}).get("ready"), 60, "server ready")
    # the running server is a row of the hub's PostgreSQL database
    assert scalar(databases["hub"], "SELECT count(*) FROM spawners JOIN users ON users.id = spawners.user_id "
                  "WHERE users.name = :name AND spawners.server_id IS NOT NULL", name="researcher") == 1

    lab = session.get(f"{hub.url}/user/researcher/lab", timeout=60)  # OAuth hand-off, as a browser does
    assert lab.status_code == 200 and lab.url.endswith("/user/researcher/lab")
    status = session.get(f"{hub.url}/user/researcher/api/status", timeout=30)
    assert status.status_code == 200 and "kernels" in status.json()

    resp = session.delete(f"{hub.url}/hub/api/users/researcher/server", timeout=30)
    assert resp.status_code in (202, 204)
    wait_until(lambda: server_of(session, hub, "researcher") is None, 30, "server stopped")
    assert scalar(databases["hub"], "SELECT count(*) FROM spawners JOIN users ON users.id = spawners.user_id "
                  "WHERE users.name = :name AND spawners.server_id IS NOT NULL", name="researcher") == 0
    assert scalar(databases["hub"], "SELECT count(*) FROM users WHERE name = :name", name="researcher") == 1
    assert scalar(databases["hub"], "SELECT count(*) FROM oauth_clients") >= 1  # the session's OAuth client


def test_the_services_keep_their_ledgers_on_postgresql(hub, databases):
    quota = f"{hub.url}/services/factoryhub-quota/api/v1"
    wait_until(lambda: requests.get(f"{quota}/health", timeout=2).status_code == 200, 60, "quota service")
    assert scalar(databases["quota"], "SELECT version_num FROM alembic_version") == alembic_head(QUOTA_MIGRATIONS)
    assert scalar(databases["catalogue"], "SELECT version_num FROM catalogue_alembic_version") == \
        alembic_head(CATALOGUE_MIGRATIONS)
    dashboards = f"{hub.url}/services/factoryhub-dashboards/api/v1"
    wait_until(lambda: requests.get(f"{dashboards}/health", timeout=2).status_code == 200, 60, "dashboards service")
    assert scalar(databases["dashboards"], "SELECT version_num FROM dashboards_alembic_version") == \
        alembic_head(DASHBOARDS_MIGRATIONS)
    announcements = f"{hub.url}/services/factoryhub-announcements/api/v1"
    wait_until(lambda: requests.get(f"{announcements}/health", timeout=2).status_code == 200, 60,
               "announcements service")
    assert scalar(databases["announcements"], "SELECT version_num FROM announcements_alembic_version") == \
        alembic_head(ANNOUNCEMENTS_MIGRATIONS)
    assert scalar(databases["hub"], "SELECT version_num FROM alembic_version")  # JupyterHub's own schema


def test_no_sqlite_database_is_made(hub):
    hub.login("admin")  # the hub has written to its database
    made = sorted(p.name for p in hub.workdir.rglob("*") if ".sqlite" in p.name)
    assert made == []


def test_database_passwords_stay_out_of_the_log_and_of_every_command_line(hub):
    """The hub hides its own URL's password; the services get theirs through the environment, since
    JupyterHub logs a service's command and ps shows it to every local user."""
    hub.login("admin")
    log = hub.log_path.read_text(errors="replace")
    assert "JupyterHub is now running" in log
    assert PASSWORD not in log
    tree = [hub.proc.pid, *descendants(hub.proc.pid)]
    assert len(tree) >= 4  # hub, proxy, quota, catalogue
    for pid in tree:
        assert PASSWORD.encode() not in Path(f"/proc/{pid}/cmdline").read_bytes(), pid


PROBE = ("import sys, sqlalchemy as sa; "
         "print(sa.create_engine(sys.argv[1]).connect().scalar(sa.text('SELECT current_user')))")


def connects(url: str, **env: str) -> bool:
    """Whether a fresh process (as the hub or a service is) logs in with ``url`` and only ``env`` changed."""
    base = {k: v for k, v in os.environ.items() if k not in ("PGPASSFILE", "PGPASSWORD", "HOME")}
    probe = subprocess.run([sys.executable, "-c", PROBE, url], env={**base, **env}, capture_output=True, text=True,
                           timeout=60)
    return probe.returncode == 0 and probe.stdout.strip() == "factoryhub"


def test_a_password_kept_in_a_passfile_is_used_by_psycopg(postgres_server, tmp_path):
    """docs/upgrading.md: URLs without a password, the password in ~/.pgpass (or $PGPASSFILE)."""
    from tests.harness.postgres import PostgresServer

    server = PostgresServer(postgres_server.bin_dir).start()  # its own server: this one asks for passwords
    try:
        url = f"postgresql+psycopg://factoryhub@127.0.0.1:{server.port}/postgres"
        with psycopg.connect(f"host=127.0.0.1 port={server.port} user=postgres dbname=postgres",
                             autocommit=True) as admin:
            admin.execute(f"CREATE ROLE factoryhub LOGIN PASSWORD '{PASSWORD}'")
        (server.root / "data" / "pg_hba.conf").write_text("local all all trust\n"
                                                          "host all all 127.0.0.1/32 scram-sha-256\n")
        server._as_postgres(str(server.bin_dir / "pg_ctl"), "-D", str(server.root / "data"), "reload")
        wait_until(lambda: not connects(url, HOME=str(tmp_path)), 30, "passwords required")

        (tmp_path / ".pgpass").write_text(f"127.0.0.1:{server.port}:*:factoryhub:{PASSWORD}\n")
        (tmp_path / ".pgpass").chmod(0o600)
        assert connects(url, HOME=str(tmp_path))
        assert connects(url, HOME="/nonexistent", PGPASSFILE=str(tmp_path / ".pgpass"))
        assert not connects(url, HOME="/nonexistent")
    finally:
        server.stop()
