"""Fixtures: a private redis-server on a free loopback port for the session,
and a client per test with its own key prefix."""

from __future__ import annotations

import os
import pathlib
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import uuid
from typing import Callable, Iterator

import pytest

import redisx


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _ping_tls(port: int, cert_dir: str) -> bool:
    # Python's own ssl module (its own OpenSSL): the client certificate is
    # offered, so this also answers for --tls-auth-clients yes.
    try:
        ctx = ssl.create_default_context(cafile=os.path.join(cert_dir, "ca.crt"))
        ctx.load_cert_chain(os.path.join(cert_dir, "client.crt"), os.path.join(cert_dir, "client.key"))
        with socket.create_connection(("127.0.0.1", port), timeout=2) as raw:
            with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
    except (OSError, ssl.SSLError):
        return False


class RedisServer:
    """A redis-server of its own (no persistence), stopped by its pid.

    ``port``: start on that port (a restart on the port of a stopped server);
    by default a free loopback port. ``tls_dir``: TLS only (``--port 0``,
    ``--tls-port``) with the certificates of ``make_test_certs`` in that
    folder; ``tls_auth_clients``: "no", "optional" or "yes"."""

    def __init__(self, port: int | None = None, tls_dir: str | None = None,
                 tls_auth_clients: str = "optional") -> None:
        exe = shutil.which("redis-server")
        if exe is None:
            raise RuntimeError("redis-server not found (apt-get install redis-server)")
        self.dir = tempfile.mkdtemp(prefix="redisx-py-")
        self.pidfile = os.path.join(self.dir, "redis.pid")
        self.pid = 0
        for _attempt in range(5):
            self.port = port if port is not None else _free_port()
            listen = ["--port", str(self.port)]
            if tls_dir is not None:
                listen = ["--port", "0", "--tls-port", str(self.port),
                          "--tls-cert-file", os.path.join(tls_dir, "server.crt"),
                          "--tls-key-file", os.path.join(tls_dir, "server.key"),
                          "--tls-ca-cert-file", os.path.join(tls_dir, "ca.crt"),
                          "--tls-auth-clients", tls_auth_clients]
            rc = subprocess.call(
                [exe, *listen, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--daemonize", "yes", "--pidfile", self.pidfile, "--dir", self.dir,
                 "--logfile", os.path.join(self.dir, "redis.log")])
            deadline = time.monotonic() + 20
            while rc == 0 and time.monotonic() < deadline:
                up = _ping(self.port) if tls_dir is None else _ping_tls(self.port, tls_dir)
                if up and os.path.exists(self.pidfile):
                    self.pid = self._read_pid()
                    if self.pid:
                        scheme = "redis" if tls_dir is None else "rediss"
                        self.url = f"{scheme}://127.0.0.1:{self.port}/0"
                        return
                time.sleep(0.05)
            self._kill()
            if port is not None:
                time.sleep(0.5)  # the same port again, a moment later
        shutil.rmtree(self.dir, ignore_errors=True)
        raise RuntimeError(f"could not start redis-server (port {port or 'any'})")

    def _read_pid(self) -> int:
        try:
            with open(self.pidfile) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return 0

    def _kill(self) -> None:
        pid = self.pid or self._read_pid()
        if pid <= 0:
            return
        try:
            os.kill(pid, signal.SIGCONT)  # a frozen server cannot handle SIGTERM
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
        os.kill(pid, signal.SIGKILL)

    def stop(self) -> None:
        """Stops the server (SIGTERM by pid, SIGKILL after 10 s); a second call does nothing."""
        if self.pid == -1:
            return
        self._kill()
        self.pid = -1  # never signal a pid the system may have given to another process
        shutil.rmtree(self.dir, ignore_errors=True)


# The test certificates of every language's TLS tests (a CA, a server
# certificate for 127.0.0.1 and localhost, a client certificate of the same CA,
# and a second CA with a client certificate of its own): see the script.
_MAKE_CERTS = pathlib.Path(__file__).resolve().parents[3] / "tests" / "tls" / "make-certs.sh"


def make_test_certs(folder: str) -> None:
    """Writes the test certificates into ``folder`` (tests/tls/make-certs.sh)."""
    subprocess.run(["sh", str(_MAKE_CERTS), folder], check=True)


@pytest.fixture
def private_server() -> Iterator[Callable[..., RedisServer]]:
    """A factory of servers for this test alone (``private_server()``, or
    ``private_server(port=p)`` to start one where a stopped one listened,
    ``private_server(tls_dir=d, tls_auth_clients="yes")`` for TLS);
    every server it started is stopped by pid when the test ends."""
    started: list[RedisServer] = []

    def start(port: int | None = None, **tls: str) -> RedisServer:
        server = RedisServer(port, **tls)
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in started:
            server.stop()


def info_section(client: redisx.Client, section: str) -> dict[str, str]:
    """``INFO <section>`` as a dict of its ``name:value`` lines."""
    text = client.execute("INFO", section)
    if isinstance(text, bytes):
        text = text.decode()
    out: dict[str, str] = {}
    for line in text.splitlines():
        if ":" in line and not line.startswith("#"):
            k, v = line.split(":", 1)
            out[k] = v
    return out


def command_calls(client: redisx.Client, command: str) -> int:
    """How often the server ran ``command`` (from scripts too), from INFO commandstats."""
    stat = info_section(client, "commandstats").get(f"cmdstat_{command.lower()}")
    if stat is None:
        return 0
    fields = dict(kv.split("=", 1) for kv in stat.split(","))
    return int(fields["calls"])


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    return redis_server.url


@pytest.fixture
def prefix() -> str:
    return "t" + uuid.uuid4().hex[:12]


@pytest.fixture
def client(redis_url: str, prefix: str) -> Iterator[redisx.Client]:
    c = redisx.Client.from_url(redis_url, prefix=prefix, command_timeout=5.0)
    try:
        yield c
    finally:
        c.close()


def wait_until(pred: Callable[[], bool], timeout: float = 15.0, step: float = 0.02) -> bool:
    """Polls `pred` until it holds (no timing assertions: generous bound)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


@pytest.fixture
def until() -> Callable[..., bool]:
    return wait_until


def unused_port() -> int:
    return _free_port()


def main_thread_ident() -> int:
    return threading.main_thread().ident or 0
