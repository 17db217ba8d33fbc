"""Alembic environment of the dashboards database (its own version table, so it may share a
PostgreSQL database with other services)."""
from factoryhub.dashboards.models import Base
from factoryhub.servicedb import run_migrations_here

run_migrations_here(Base.metadata, version_table="dashboards_alembic_version")
