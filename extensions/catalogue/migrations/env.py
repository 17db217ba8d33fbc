"""Alembic environment of the catalogue's request database (its own version table, so it may
share a PostgreSQL database with other services)."""
from alembic import context
from sqlalchemy import create_engine

from factoryhub.catalogue.models import Base

config = context.config
VERSION_TABLE = "catalogue_alembic_version"


def run(connection) -> None:
    context.configure(connection=connection, target_metadata=Base.metadata, version_table=VERSION_TABLE,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    with create_engine(config.get_main_option("sqlalchemy.url")).begin() as connection:
        run(connection)
