"""Alembic environment of the announcements database (its own version table, so it may share a
PostgreSQL database with other services)."""
from factoryhub.announcements.models import Base
from factoryhub.servicedb import run_migrations_here

run_migrations_here(Base.metadata, version_table="announcements_alembic_version")
