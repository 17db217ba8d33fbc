"""Alembic environment of the workshops database (its own version table, so it may share a
PostgreSQL database with other services)."""
from factoryhub.servicedb import run_migrations_here
from factoryhub.workshops.models import Base

run_migrations_here(Base.metadata, version_table="workshops_alembic_version")
