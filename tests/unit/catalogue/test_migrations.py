"""The catalogue's migrations build exactly the tables its models describe."""
from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from factoryhub.catalogue import models
from factoryhub.servicedb import Database

MIGRATIONS = Path(models.__file__).with_name("migrations")


def test_migrated_schema_matches_the_models(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'catalogue.sqlite'}", MIGRATIONS)
    db.upgrade()
    db.upgrade()  # idempotent
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": "catalogue_alembic_version"})
        assert compare_metadata(context, models.Base.metadata) == []
    db.dispose()
