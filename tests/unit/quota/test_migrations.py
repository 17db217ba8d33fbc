"""The migrations build exactly the schema the models describe."""
from __future__ import annotations

import datetime as dt

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import select, text

from factoryhub.quota.db import Database, alembic_config
from factoryhub.quota.models import Base, UsageDay


def test_migrated_schema_matches_the_models(db):
    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_upgrade_is_idempotent(db):
    db.upgrade()  # already at head: nothing to do, nothing fails
    head = ScriptDirectory.from_config(alembic_config(db.url)).get_current_head()
    with db.engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == head


def test_the_daily_rollup_migration_keeps_imported_usage(tmp_path):
    """A ledger at 0001 with records; upgrading fills usage_days from them."""
    db = Database(f"sqlite:///{tmp_path / 'old.sqlite'}")
    with db.engine.begin() as connection:
        config = alembic_config(db.url)
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        connection.execute(text(
            "INSERT INTO usage_records (cluster, job_id, account, username, partition, state, start_at, end_at, gpus,"
            " cpus, elapsed_seconds, gpu_seconds, cpu_seconds) VALUES "
            "('c', '1', 'p', 'u', 'gpu', 'COMPLETED', '2026-11-20 10:00:00', '2026-11-20 11:00:00',"
            " 2, 1, 3600, 7200, 3600),"
            "('c', '2', 'p', 'u', 'gpu', 'COMPLETED', '2026-11-20 23:00:00', '2026-11-21 01:00:00',"
            " 1, 1, 7200, 7200, 7200),"
            "('c', '3', 'p', 'u', 'gpu', 'RUNNING', '2026-11-21 10:00:00', NULL, 4, 1, 60, 240, 60)"))
    db.upgrade()
    with db.read() as session:
        days = [(d.account, d.day, d.gpu_seconds, d.jobs)
                for d in session.scalars(select(UsageDay).order_by(UsageDay.day))]
    assert days == [("p", dt.date(2026, 11, 20), 14400, 2)]  # by start day; running jobs are not rolled up
    db.dispose()
