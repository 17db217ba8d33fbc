"""Alembic environment of the catalogue's request database (its own version table, so it may
share a PostgreSQL database with other services)."""
from factoryhub.catalogue.models import Base
from factoryhub.servicedb import run_migrations_here

run_migrations_here(Base.metadata, version_table="catalogue_alembic_version")
