from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from domain.clock import FakeClock
from storage.db import Database
from tests import engines


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--engine",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="the database engine the suite runs on (postgresql: a throwaway cluster, or CAUCUS_TEST_POSTGRES)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: a test of SQLite's own machinery (its file, PRAGMAs)")
    config.addinivalue_line(
        "markers", "postgresql_only: a test that needs a PostgreSQL server (several processes, migrate-db)"
    )
    if config.getoption("--engine") == "postgresql":
        engines.use_postgres(os.environ.get("CAUCUS_TEST_POSTGRES") or engines.start_cluster())


def pytest_unconfigure(config: pytest.Config) -> None:
    engines.stop_cluster()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Each run takes the tests of its engine: SQLite's own machinery only on SQLite, and what needs a
    PostgreSQL server (several processes, migrate-db) only on PostgreSQL."""
    other = "sqlite_only" if engines.on_postgres() else "postgresql_only"
    kept = [item for item in items if item.get_closest_marker(other) is None]
    left = [item for item in items if item.get_closest_marker(other) is not None]
    if left:
        config.hook.pytest_deselected(items=left)
        items[:] = kept


@pytest.fixture(autouse=True)
def _drop_test_databases() -> Iterator[None]:
    yield
    engines.drop_created()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 30, 12, 0, tzinfo=UTC))


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await engines.open_db(tmp_path / "caucus.db")
    yield database
    await database.close()
