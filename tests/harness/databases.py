"""Service databases for tests: a migrated, empty one on SQLite or on the session's real PostgreSQL;
a site whose databases are chosen by the test; a migrations folder's head."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from tests.harness.hub import REPO

EMBEDDED_DEFAULT = REPO / "extensions" / "hub" / "site" / "default.yaml"

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def migrated_database(request, tmp_path, make: Callable[[str], object]) -> Iterator:
    """For a fixture parametrized with BACKENDS: ``make(url)`` builds the service's Database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'service.sqlite'}"
    else:
        url = request.getfixturevalue("postgres_server").database()
    database = make(url)
    database.upgrade()
    yield database
    database.dispose()


def site_with_databases(workdir: Path, databases: dict[str, str]) -> Path:
    """The embedded default site written to ``workdir/site.yaml`` with ``databases`` (hub, quota,
    catalogue: SQLAlchemy URLs) in its ``databases`` section; returns the file."""
    site = yaml.safe_load(EMBEDDED_DEFAULT.read_text())
    site["databases"] = dict(databases)
    path = workdir / "site.yaml"
    path.write_text(yaml.safe_dump(site, sort_keys=False))
    return path


def alembic_head(migrations: Path) -> str:
    """The newest revision of the migrations in ``migrations`` (a service's migrations folder)."""
    from alembic.script import ScriptDirectory

    from factoryhub.servicedb import alembic_config

    return ScriptDirectory.from_config(alembic_config("sqlite://", migrations)).get_current_head()
