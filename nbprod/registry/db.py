"""Connect to the registry database and keep writes safe under concurrency.

SQLite (the embedded default) runs in WAL mode: readers never block, and every write
transaction starts with ``BEGIN IMMEDIATE`` so concurrent writers queue on the busy timeout
instead of failing half-way with "database is locked". PostgreSQL goes through the same code.
The schema is migrated with Alembic once, under a lock (the SQLite write lock, or a PostgreSQL
advisory lock); a registry already at the head revision costs one query.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ..errors import RegistryError
from ..urls import redact
from .schema import HEAD_REVISION

_PG_MIGRATION_LOCK = 7_262_012  # arbitrary advisory-lock id for nbprod migrations
_READ = "nbprod_read"


def connect(url: str, *, busy_timeout: float = 30.0) -> Engine:
    """An engine for ``url`` with nbprod's concurrency settings; the schema migrated.

    The engine is kept for the next ``connect`` to the same database in this process (give
    it back with :func:`release`): a sweep's worker, the server and a benchmark open the
    project again for each run, and a new engine compiles every statement again and opens
    its connections again (a dozen statements a run: ~15 ms in one process). A SQLite file
    replaced or removed since gets a new engine, and so does a forked child: a pooled
    connection must not cross ``fork`` (on PostgreSQL even the pool's pre-ping would speak
    on the parent's session).
    """
    key = (url, busy_timeout)
    with _KEPT_LOCK:
        kept = _KEPT.get(key)
    identity = _database_identity(url)
    if kept is not None and kept.pid == os.getpid() and identity is not None and \
            kept.identity == identity:
        engine = kept.engine
    else:
        engine = _create_engine(url, busy_timeout)
    try:
        migrate(engine)
    except sa.exc.SQLAlchemyError as exc:
        _forget(key, engine)
        engine.dispose()
        raise translate(exc, url) from exc
    _keep(key, engine, identity or _database_identity(url))
    return engine


def release(engine: Engine) -> None:
    """Done with an engine from :func:`connect`: one kept for reuse stays (its idle
    connections hold no lock), any other is disposed."""
    with _KEPT_LOCK:
        if any(kept.engine is engine for kept in _KEPT.values()):
            return
    engine.dispose()


@dataclass(frozen=True)
class _Kept:
    engine: Engine
    identity: tuple[Any, ...]
    pid: int  # the process that made it: its connections are that process's


_KEEP = 4  # registries whose engines a process keeps (a test suite opens thousands)
_KEPT: OrderedDict[tuple[str, float], _Kept] = OrderedDict()
_KEPT_LOCK = threading.Lock()


def _keep(key: tuple[str, float], engine: Engine, identity: tuple[Any, ...] | None) -> None:
    if identity is None:  # an in-memory database: each engine's own
        return
    dropped = []
    with _KEPT_LOCK:
        previous = _KEPT.get(key)
        if previous is not None and previous.engine is not engine:
            dropped.append(previous)
        _KEPT[key] = _Kept(engine, identity, os.getpid())
        _KEPT.move_to_end(key)
        while len(_KEPT) > _KEEP:
            dropped.append(_KEPT.popitem(last=False)[1])
    for old in dropped:  # still usable by whoever holds it: it opens new connections
        # a parent's engine inherited by fork: its connections are left to the parent
        old.engine.dispose(close=old.pid == os.getpid())


def _forget(key: tuple[str, float], engine: Engine) -> None:
    with _KEPT_LOCK:
        if key in _KEPT and _KEPT[key].engine is engine:
            del _KEPT[key]


def _database_identity(url: str) -> tuple[Any, ...] | None:
    """What tells this database from another at the same URL: a SQLite file's device and
    inode (None while it does not exist, and for an in-memory database); a server's URL."""
    try:
        parsed = sa.engine.make_url(url)
    except (sa.exc.ArgumentError, ValueError):
        return None
    if parsed.get_backend_name() != "sqlite":
        return ("server",)
    if not parsed.database or parsed.database == ":memory:":
        return None
    try:
        st = os.stat(parsed.database)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def _create_engine(url: str, busy_timeout: float) -> Engine:
    try:
        parsed = sa.engine.make_url(url)
    except (sa.exc.ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise RegistryError(f"registry URL {redact(url)!r} is not a database URL",
                            hint="use sqlite:///path/registry.db or postgresql://...") from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            try:
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise RegistryError(f"cannot create the registry folder for {parsed.database}: "
                                    f"{exc.strerror}") from None
        # Connections are kept and reused (a run makes a handful of transactions): with one
        # per transaction, each close was the database's last connection, and SQLite
        # checkpoints the WAL into the database on that close (~2-3 ms, with fsyncs).
        engine = sa.create_engine(
            parsed, connect_args={"timeout": busy_timeout, "check_same_thread": False},
            poolclass=sa.pool.QueuePool, pool_size=2, max_overflow=8)
        _sqlite_events(engine, busy_timeout)
        _fork_safe(engine)
        return engine
    try:
        return sa.create_engine(parsed, pool_pre_ping=True, pool_size=2, max_overflow=4)
    except (ImportError, sa.exc.NoSuchModuleError) as exc:
        raise RegistryError(f"registry {redact(url)}: no database driver for "
                            f"{parsed.drivername}: {exc}",
                            hint="use sqlite:///... or postgresql+psycopg://... (pip install "
                                 "'nbprod[postgres]')") from None


def _fork_safe(engine: Engine) -> None:
    """A forked child (a sweep worker, a warm nbprod's command) never uses its parent's
    pooled connections: SQLite connections must not cross ``fork``. One checked out in
    another process than the one that opened it is dropped without being closed (closing it
    could checkpoint or unlock for the parent) and a new one is opened."""
    inherited: list[Any] = []  # kept, never closed, until the child exits

    @sa.event.listens_for(engine, "connect")
    def _note_pid(_dbapi_connection: Any, record: Any) -> None:
        record.info["pid"] = os.getpid()

    @sa.event.listens_for(engine, "checkout")
    def _check_pid(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        if record.info.get("pid") != os.getpid():
            inherited.append(dbapi_connection)
            record.dbapi_connection = proxy.dbapi_connection = None
            raise sa.exc.DisconnectionError("connection opened in another process")


def _sqlite_events(engine: Engine, busy_timeout: float) -> None:
    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite would defer it).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        mode = cursor.execute("PRAGMA journal_mode").fetchone()[0]
        if str(mode).lower() != "wal":
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        read_only = connection.get_execution_options().get(_READ, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


@contextmanager
def writing(engine: Engine, url: str) -> Iterator[Connection]:
    """A write transaction (``BEGIN IMMEDIATE`` on SQLite); errors become RegistryError."""
    try:
        with engine.begin() as connection:
            yield connection
    except sa.exc.SQLAlchemyError as exc:
        raise translate(exc, url) from exc


@contextmanager
def reading(engine: Engine, url: str) -> Iterator[Connection]:
    """A read transaction: a consistent snapshot that takes no write lock."""
    try:
        with engine.connect() as connection:
            connection = connection.execution_options(**{_READ: True})
            with connection.begin():
                yield connection
    except sa.exc.SQLAlchemyError as exc:
        raise translate(exc, url) from exc


def current_revision(connection: Connection) -> str | None:
    if not _has_version_table(connection):
        return None
    row = connection.exec_driver_sql("SELECT version_num FROM alembic_version").first()
    return str(row[0]) if row else None


def _has_version_table(connection: Connection) -> bool:
    """Whether alembic's version table exists (asked directly on SQLite and PostgreSQL: an
    inspector's first use costs every command that opens the registry ~5 ms)."""
    dialect = connection.dialect.name
    if dialect == "sqlite":
        return connection.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
        ).first() is not None
    if dialect == "postgresql":
        return connection.exec_driver_sql(
            "SELECT to_regclass('alembic_version') IS NOT NULL").scalar() is True
    return bool(sa.inspect(connection).has_table("alembic_version"))


def migrate(engine: Engine) -> None:
    """Bring the schema to :data:`HEAD_REVISION`, once, under a lock."""
    with engine.connect() as probe:
        probe = probe.execution_options(**{_READ: True})
        with probe.begin():
            if current_revision(probe) == HEAD_REVISION:
                return
    with engine.begin() as connection:  # BEGIN IMMEDIATE: one migrator at a time
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"),
                               {"k": _PG_MIGRATION_LOCK})
        current = current_revision(connection)
        if current == HEAD_REVISION:
            return
        _alembic_upgrade(connection, current)


def _alembic_upgrade(connection: Connection, current: str | None) -> None:
    from alembic import command
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    config.attributes["connection"] = connection
    known = {rev.revision for rev in ScriptDirectory.from_config(config).walk_revisions()}
    if current is not None and current not in known:
        raise RegistryError(f"the registry's schema (revision {current}) is newer than this "
                            "nbprod", hint="upgrade nbprod to use this registry")
    command.upgrade(config, "head")


def aware(value: dt.datetime) -> dt.datetime:
    """A stored timestamp as UTC-aware (SQLite hands back naive datetimes)."""
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


class DuplicateKey(RegistryError):
    """A row with the same key exists: a concurrent writer got there first."""


def translate(exc: sa.exc.SQLAlchemyError, url: str) -> RegistryError:
    """One clear line for a database failure."""
    where = redact(url)
    text = str(getattr(exc, "orig", exc) or exc).strip().splitlines()[0] if str(exc) else \
        type(exc).__name__
    lowered = text.lower()
    if "database is locked" in lowered or "database table is locked" in lowered:
        return RegistryError(f"registry {where} stayed locked by another process past the busy "
                             "timeout", hint="retry; if it persists, look for a stuck nbprod "
                                             "process")
    if "disk is full" in lowered or "no space" in lowered:
        return RegistryError(f"registry {where}: disk full", hint="free space and retry")
    if "unable to open database" in lowered or "readonly database" in lowered:
        return RegistryError(f"cannot open registry {where}: {text}",
                             hint="check the path and its permissions")
    if "could not connect" in lowered or "connection refused" in lowered or \
            "connection failed" in lowered:
        return RegistryError(f"cannot connect to registry {where}: {text}",
                             hint="is the database server running and reachable?")
    if isinstance(exc, sa.exc.IntegrityError) and ("unique" in lowered
                                                   or "duplicate key" in lowered):
        return DuplicateKey(f"registry {where}: {text}")
    if isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError):
        return RegistryError(f"registry {where}: {text}")
    return RegistryError(f"registry {where}: {type(exc).__name__}: {text}")
