"""Shared fixtures: a fresh migrated database per test (SQLite, or PostgreSQL where asked),
the app, and an HTTP client talking to it in-process."""

from __future__ import annotations

import asyncio
import itertools
import shutil
import sqlite3
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from passerelle.app import create_app
from passerelle.config import Settings
from passerelle.db import migrate
from passerelle.db.group_commit import GroupCommit
from passerelle.festival.startup import start_engine
from passerelle.state import AppState
from tests.services import PostgresServer, RedisServer, postgres_from_env, start_postgres, start_redis, unavailable

BACKENDS = ("sqlite", "postgres")
_db_counter = itertools.count()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "both_backends: run the test on SQLite and on PostgreSQL")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames and metafunc.definition.get_closest_marker("both_backends"):
        metafunc.parametrize("backend", BACKENDS, indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    migrate.upgrade(f"sqlite+aiosqlite:///{path}")
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode=DELETE")
    return path


_postgres: PostgresServer | None = None
_postgres_error: str | None = None


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    global _postgres, _postgres_error
    if _postgres is None and _postgres_error is None:
        try:
            _postgres = postgres_from_env() or start_postgres()
        except Exception as error:  # noqa: BLE001 - reported through unavailable()
            _postgres_error = f"PostgreSQL could not start: {error}"
    if _postgres is None:
        unavailable(_postgres_error or "PostgreSQL unavailable")
    assert _postgres is not None
    yield _postgres


_redis: RedisServer | None = None


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    global _redis
    if _redis is None:
        try:
            _redis = start_redis()
        except Exception as error:  # noqa: BLE001 - reported through unavailable()
            unavailable(f"Redis could not start: {error}")
    assert _redis is not None
    yield _redis


def pytest_sessionfinish(session: pytest.Session) -> None:
    if _postgres is not None:
        _postgres.stop()
    if _redis is not None:
        _redis.stop()


def _admin_sql(postgres: PostgresServer, *statements: str) -> None:
    """Run admin statements from a worker thread (sync fixtures must not touch the test loop)."""

    async def run() -> None:
        admin = create_async_engine(postgres.url(postgres.admin_db), isolation_level="AUTOCOMMIT")
        async with admin.connect() as conn:
            for statement in statements:
                await conn.execute(text(statement))
        await admin.dispose()

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, run()).result()


@pytest.fixture(scope="session")
def postgres_template(postgres: PostgresServer) -> str:
    name = "passerelle_template"
    _admin_sql(postgres, f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}")
    migrate.upgrade(postgres.url(name))
    return name


@pytest.fixture
def database_url(backend: str, tmp_path: Path, sqlite_template: Path, request: pytest.FixtureRequest) -> str:
    if backend == "postgres":
        postgres: PostgresServer = request.getfixturevalue("postgres")
        template: str = request.getfixturevalue("postgres_template")
        name = f"passerelle_t{next(_db_counter)}"
        _admin_sql(postgres, f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name} TEMPLATE {template}")
        return postgres.url(name)
    target = tmp_path / "passerelle.db"
    shutil.copyfile(sqlite_template, target)
    return f"sqlite+aiosqlite:///{target}"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    # A cheap argon2 cost keeps the suite fast; production keeps the library's defaults.
    return Settings(
        data_dir=tmp_path / "var",
        database_url=database_url,
        secret_key="test-secret",
        argon2_time_cost=1,
        argon2_memory_kib=1024,
    )


@pytest.fixture
async def state(settings: Settings) -> AsyncIterator[AppState]:
    app_state = AppState.from_settings(settings)
    await start_engine(app_state)
    yield app_state
    if app_state.engine is not None:
        await app_state.engine.stop()
    await app_state.db.dispose()


@pytest.fixture
def group_commit_on(state: AppState) -> Iterator[GroupCommit]:
    """Group commit on the SQLite test database, whatever the settings' default
    (`pytestmark = pytest.mark.usefixtures("group_commit_on")` for a whole module)."""
    assert state.db.write_lock is not None  # SQLite, the embedded default
    state.db.group_commit = GroupCommit(state.db.engine, state.db.write_lock)
    yield state.db.group_commit
    state.db.group_commit = None


@pytest.fixture
def app(state: AppState):  # type: ignore[no-untyped-def]
    return create_app(state=state)


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http
