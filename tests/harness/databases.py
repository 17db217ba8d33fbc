"""A migrated, empty service database on SQLite or on the session's real PostgreSQL."""
from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

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
