"""Databases of FactoryHub's services: engines, serialised writers, Alembic migrations, UTC times.

Each service owns its database and its migrations; this module is only the shared plumbing
(SQLite by default, PostgreSQL in production).

Writers that read-then-write must not interleave: on PostgreSQL they lock rows
(``SELECT ... FOR UPDATE``); on SQLite, which has no row locks, a write transaction starts
with ``BEGIN IMMEDIATE`` so only one writer reads-then-writes at a time.
"""
from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

from alembic import command, op
from alembic.config import Config
from sqlalchemy import DateTime, Engine, TypeDecorator, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

_WRITE = "factoryhub_write"


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite has no time zones)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware UTC datetime")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect):
        return value.replace(tzinfo=dt.UTC) if value is not None else None


# Where a hub-managed service finds its database URL (it may hold a password: never on the command line).
DB_URL_VARIABLE = "FACTORYHUB_DB_URL"

def utcnow() -> dt.datetime:
    """The current time as an aware UTC datetime, the only kind the services store."""
    return dt.datetime.now(dt.UTC)


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and explicit transaction control."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _sqlite_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (below)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if ":memory:" not in url:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(connection):
        immediate = connection.get_execution_options().get(_WRITE)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class Database:
    """One service's database: read sessions, serialised write sessions, migrations."""

    def __init__(self, url: str, migrations: Path):
        self.url, self.migrations = url, migrations
        self.engine = make_engine(url)
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(self.engine.execution_options(**{_WRITE: True}), expire_on_commit=False)

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        with self._read() as session:
            yield session

    @contextlib.contextmanager
    def write(self) -> Iterator[Session]:
        """A transaction that commits at the end of the block, or rolls back entirely."""
        with self._write() as session, session.begin():
            yield session

    def upgrade(self) -> None:
        """Bring the schema to the newest migration (idempotent)."""
        with self.engine.begin() as connection:
            config = alembic_config(self.url, self.migrations)
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(url: str, migrations: Path) -> Config:
    """An Alembic configuration for the database at ``url`` with the migrations in ``migrations``."""
    config = Config()
    config.set_main_option("script_location", str(migrations))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


class SchemaNewerThanCode(SystemExit):
    """The database was migrated by a newer FactoryHub: its revision is unknown to this code.

    A SystemExit, so that a service started on such a database stops with this one line (the
    hub's log shows it) instead of a traceback; tests and callers can still catch it by type."""

    def __init__(self, service: str, url: str, revisions: list[str], head: str | None):
        self.revisions = revisions
        super().__init__(
            f"factoryhub-{service}: the database {url} is at schema revision {', '.join(revisions)}, which this "
            f"FactoryHub does not know (its newest is {head}): a newer FactoryHub has migrated it. Install that "
            f"version again, or restore the backup taken before the upgrade (docs/upgrading.md).")


def _refuse_unknown_revisions(context, connection) -> None:
    """Stop before migrating when the stored revision is not one of this code's migrations."""
    script = context.script
    known = {revision.revision for revision in script.walk_revisions()}
    unknown = [r for r in context.get_context().get_current_heads() if r not in known]
    if unknown:
        raise SchemaNewerThanCode(Path(script.dir).parent.name, connection.engine.url.render_as_string(
            hide_password=True), unknown, script.get_current_head())


def run_migrations_here(metadata, version_table: str = "alembic_version") -> None:
    """The body of a service's migrations/env.py: on the connection Database.upgrade passes, or on
    the URL in the Alembic config (command-line use). Refuses a database migrated by newer code
    (:class:`SchemaNewerThanCode`)."""
    from alembic import context

    def run(connection) -> None:
        context.configure(connection=connection, target_metadata=metadata, version_table=version_table,
                          render_as_batch=connection.dialect.name == "sqlite")
        _refuse_unknown_revisions(context, connection)
        with context.begin_transaction():
            context.run_migrations()

    connection = context.config.attributes.get("connection")
    if connection is not None:
        run(connection)
    else:
        with create_engine(context.config.get_main_option("sqlalchemy.url")).begin() as connection:
            run(connection)


def guard_update_delete(table: str) -> None:
    """In a migration: the database refuses UPDATE and DELETE on ``table``."""
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for event_ in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER {table}_no_{event_.lower()} BEFORE {event_} ON {table} "
                       f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")
    elif dialect == "postgresql":
        op.execute(f"CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
                   f"BEGIN RAISE EXCEPTION '{table} is append-only'; END $$")
        op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()")


def guard_replace_truncate(table: str) -> None:
    """In a migration, after guard_update_delete: also refuse what bypasses row triggers —
    SQLite's INSERT OR REPLACE of an existing id (its delete fires no trigger) and
    PostgreSQL's TRUNCATE."""
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute(f"CREATE TRIGGER {table}_no_replace BEFORE INSERT ON {table} "
                   f"WHEN EXISTS (SELECT 1 FROM {table} WHERE id = NEW.id) "
                   f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")
    elif dialect == "postgresql":
        op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()")


def make_append_only(table: str) -> None:
    """In a migration: ``table`` (an audit log with an ``id`` key) can only grow."""
    guard_update_delete(table)
    guard_replace_truncate(table)


def drop_append_only(table: str) -> None:
    """In a migration's downgrade: remove the append-only guards :func:`make_append_only` put on ``table``."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {table}_append_only()")
