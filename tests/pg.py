"""Real PostgreSQL for the state tests: the server at ``TEST_DATABASE_URL``, else a throwaway one.

Without ``TEST_DATABASE_URL`` a server is started from ``initdb`` / ``pg_ctl`` on PATH in a temp
folder (on a free port, for this test run only). Where neither works, the tests that need it
are skipped with a reason starting "needs PostgreSQL:" (``.ci/run`` fails on such a skip).

Every test gets its own database (``scratch_database``), dropped when it ends, so tests never
see each other's rows and the shared server is left as it was found.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SKIP_PREFIX = "needs PostgreSQL:"


class NoPostgres(Exception):
    """Why no PostgreSQL server is available (the skip reason, after ``SKIP_PREFIX``)."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ThrowawayServer:
    """``initdb`` + ``pg_ctl start`` in a temp folder; ``stop()`` removes everything."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="bot-pg-"))
        self.port = _free_port()
        self.as_user: list[str] = []
        """``runuser -u postgres --`` when running as root (initdb refuses root)."""

    def start(self) -> str:
        initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
        if not initdb or not pg_ctl:
            raise NoPostgres("set TEST_DATABASE_URL, or put initdb and pg_ctl on PATH")
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            self._drop_root()
        data = self.folder / "data"
        run = [*self.as_user, initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
        if subprocess.run(run, capture_output=True, timeout=120).returncode != 0:
            raise NoPostgres("initdb failed; set TEST_DATABASE_URL")
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        start = [*self.as_user, pg_ctl, "-D", str(data), "-o", options, "-l", str(self.folder / "log"), "-w", "start"]
        if subprocess.run(start, capture_output=True, timeout=120).returncode != 0:
            raise NoPostgres("pg_ctl could not start a server; set TEST_DATABASE_URL")
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _drop_root(self) -> None:
        import pwd

        runuser = shutil.which("runuser")
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            user = None
        if runuser is None or user is None:
            raise NoPostgres("set TEST_DATABASE_URL (initdb refuses to run as root, and there is no postgres user)")
        os.chown(self.folder, user.pw_uid, user.pw_gid)
        self.as_user = [runuser, "-u", "postgres", "--"]

    def stop(self) -> None:
        pg_ctl = shutil.which("pg_ctl")
        if pg_ctl and (self.folder / "data" / "postmaster.pid").exists():
            subprocess.run([*self.as_user, pg_ctl, "-D", str(self.folder / "data"), "-m", "immediate", "stop"],
                           capture_output=True, timeout=60)
        shutil.rmtree(self.folder, ignore_errors=True)


@contextmanager
def postgres_server() -> Iterator[str]:
    """A URL of a server this run may create databases on; raises ``NoPostgres``."""
    url = os.environ.get("TEST_DATABASE_URL", "").strip()
    if url:
        _check(url)
        yield url
        return
    server = ThrowawayServer()
    try:
        yield server.start()
    finally:
        server.stop()


def _check(url: str) -> None:
    import psycopg

    try:
        with psycopg.connect(_plain(url), connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        raise NoPostgres(f"TEST_DATABASE_URL does not answer ({type(exc).__name__})") from None


def _plain(url: str) -> str:
    """The libpq form of a URL (no SQLAlchemy driver suffix)."""
    scheme, _, rest = url.partition("://")
    return f"postgresql://{rest}"


def _with_database(url: str, name: str) -> str:
    base, _, _ = _plain(url).rpartition("/")
    query = ""
    if "?" in url:
        query = "?" + url.split("?", 1)[1]
    return f"{base}/{name}{query}"


@contextmanager
def scratch_database(server_url: str) -> Iterator[str]:
    """A new, empty database on the server for one test; dropped (connections and all) after."""
    import psycopg

    name = f"bot_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_plain(server_url), autocommit=True, connect_timeout=10) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_database(server_url, name)
    finally:
        with psycopg.connect(_plain(server_url), autocommit=True, connect_timeout=10) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
