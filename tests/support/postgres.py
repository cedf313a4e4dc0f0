"""A real PostgreSQL server for the test suite (issue 16): the one named by ``MONITOR_TEST_POSTGRES``, or a
throwaway cluster per test session started with the server's own ``initdb`` and ``pg_ctl``.

Debian installs the binaries under ``/usr/lib/postgresql/<version>/bin`` (not on PATH); the highest version
found there is used. PostgreSQL refuses to run as root, so under root the cluster's folder belongs to the
``postgres`` user and its commands run as that user. The cluster listens on a unix socket in its own folder
only (no TCP port to collide with a neighbour), trusts local connections, and runs without fsync: a crash
loses nothing worth keeping. It is stopped with ``pg_ctl stop -m immediate`` and removed at the end. A test
that restarts the server (:meth:`ThrowawayCluster.stop`, :meth:`ThrowawayCluster.start`) starts a cluster of
its own with :func:`throwaway_cluster`, so the session's server stays up for every other test.

Each test gets its own database cloned from an empty template (``CREATE DATABASE ... TEMPLATE ...``), so a
test may migrate, lock and fill it as it likes.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ENV = "MONITOR_TEST_POSTGRES"
BIN_GLOB = "/usr/lib/postgresql/*/bin/initdb"
HOW_TO_ENABLE = (
    "PostgreSQL tests need a server: install Debian's `postgresql` package (its initdb under "
    f"/usr/lib/postgresql/<version>/bin; .ci/run installs it) or set {ENV}=postgresql://user@host/db"
)
SUPERUSER = "postgres"


class Unavailable(Exception):
    """No server can be had on this machine (the message says how to get one)."""


def find_bindir() -> Path | None:
    """The ``bin`` folder of the highest PostgreSQL version installed the Debian way, if any."""

    def version(initdb: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", initdb.parent.parent.name))

    found = sorted(Path("/").glob(BIN_GLOB.lstrip("/")), key=version)
    return found[-1].parent if found else None


def postgres_url(conninfo: str) -> str:
    """A test database's libpq ``key=value`` conninfo (a unix socket, no password) as the URL a config
    holds."""
    from psycopg.conninfo import conninfo_to_dict

    params = conninfo_to_dict(conninfo)
    return f"postgresql://{params['user']}@/{params['dbname']}?host={params['host']}"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass
class PostgresServer:
    """A server the tests may create databases on: ``admin`` is the conninfo of a database to connect to
    for ``CREATE DATABASE`` (never a test's own)."""

    admin: str
    prefix: str
    template: str = ""
    _counter: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def conninfo(self, dbname: str) -> str:
        from psycopg.conninfo import make_conninfo

        return make_conninfo(self.admin, dbname=dbname)

    def _admin_execute(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(sql)

    def create_template(self) -> None:
        self.template = f"{self.prefix}_template"
        self._admin_execute(f"DROP DATABASE IF EXISTS {_quote(self.template)}")
        self._admin_execute(f"CREATE DATABASE {_quote(self.template)}")

    def drop_template(self) -> None:
        self._admin_execute(f"DROP DATABASE IF EXISTS {_quote(self.template)} WITH (FORCE)")

    @contextmanager
    def database(self) -> Iterator[str]:
        """A fresh database cloned from the template, dropped afterwards; yields its conninfo."""
        name = f"{self.prefix}_{next(self._counter)}"
        self._admin_execute(f"CREATE DATABASE {_quote(name)} TEMPLATE {_quote(self.template)}")
        try:
            yield self.conninfo(name)
        finally:
            self._admin_execute(f"DROP DATABASE IF EXISTS {_quote(name)} WITH (FORCE)")


def _as_postgres_user() -> dict[str, Any]:
    """subprocess arguments that run a server command as ``postgres`` when we are root (as is)."""
    if os.geteuid() != 0:
        return {}
    return {"user": SUPERUSER, "group": SUPERUSER}


@dataclass
class ThrowawayCluster(PostgresServer):
    """A cluster of our own: besides databases, a test may :meth:`stop` and :meth:`start` its server (same
    data folder, same socket), as an operator restarting PostgreSQL under running workers would."""

    bindir: Path = Path()
    root: Path = Path()

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    def pg(self, *args: str) -> None:
        """Run one of the server's commands (``initdb``, ``pg_ctl``) as the cluster's owner."""
        result = subprocess.run(
            [str(self.bindir / args[0]), *args[1:]],
            cwd=self.root,
            env={**os.environ, "LC_ALL": "C", "TZ": "UTC"},
            capture_output=True,
            text=True,
            check=False,
            **_as_postgres_user(),
        )
        if result.returncode != 0:
            tail = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"postgres: {args[0]} failed ({result.returncode}): {result.stderr}{tail}")

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = (
            f"-k {self.root} -c listen_addresses= -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_connections=100"
        )
        self.pg("pg_ctl", "start", "-D", str(self.data), "-w", "-s", "-l", str(self.log), "-o", options)

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: ``fast`` ends every session with an administrator's shutdown, as ``docker stop``
        does to the postgres image; ``immediate`` is a crash (recovery at the next start)."""
        self.pg("pg_ctl", "stop", "-D", str(self.data), "-m", mode, "-w", "-s")


@contextmanager
def throwaway_cluster(bindir: Path) -> Iterator[ThrowawayCluster]:
    """A new cluster in a temporary folder, running until the block ends, then stopped and removed."""
    root = Path(tempfile.mkdtemp(prefix="monitor-pg-"))  # short: a socket path has a ~100-byte limit
    if _as_postgres_user():
        shutil.chown(root, SUPERUSER, SUPERUSER)
    cluster = ThrowawayCluster(
        admin=f"host={root} user={SUPERUSER} dbname=postgres", prefix="monitor_test", bindir=bindir, root=root
    )
    try:
        cluster.pg("initdb", "-D", str(cluster.data), "-U", SUPERUSER, "--auth=trust", "--no-sync", "-E",
                   "UTF8", "--no-locale", "--no-instructions")  # fmt: skip
        cluster.start()
        try:
            cluster.create_template()
            yield cluster
        finally:
            with suppress(RuntimeError):  # a test may have left it stopped
                cluster.stop("immediate")
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def external_server(url: str) -> Iterator[PostgresServer]:
    """The server of ``MONITOR_TEST_POSTGRES``: databases named after this process, dropped at the end
    (the role needs CREATEDB)."""
    server = PostgresServer(admin=url, prefix=f"monitor_test_{os.getpid()}")
    server.create_template()
    try:
        yield server
    finally:
        server.drop_template()


@contextmanager
def session_server() -> Iterator[PostgresServer]:
    """The server for this test session; raises :class:`Unavailable` saying how to get one."""
    try:
        import psycopg  # noqa: F401
    except ImportError as exc:
        raise Unavailable("PostgreSQL tests need psycopg: pip install -e '.[postgres]'") from exc
    url = os.environ.get(ENV)
    if url:
        with external_server(url) as server:
            yield server
        return
    bindir = find_bindir()
    if bindir is None:
        raise Unavailable(HOW_TO_ENABLE)
    with throwaway_cluster(bindir) as server:
        yield server
