"""The migrations build exactly the schema the models describe."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from factoryhub.quota.models import Base


def test_migrated_schema_matches_the_models(db):
    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_upgrade_is_idempotent(db):
    db.upgrade()  # already at head: nothing to do, nothing fails
    with db.engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == "0001"
