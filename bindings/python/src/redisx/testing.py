"""Throwaway redis-servers for the tests of code that uses redisx.

A standalone server or a local Redis Cluster on free 127.0.0.1 ports, without
persistence, stopped when the test (or the ``with`` block) ends::

    from redisx.testing import RedisServer

    with RedisServer() as server:
        client = server.client()
        ...

With pytest the fixtures below are available without an import (the package
registers this module as a pytest plugin):

``redisx_server``
    one server for the test session (started on first use);
``redisx_client``
    a client on it with a key prefix of the test's own, closed after the test;
``redisx_cluster``
    a local cluster of three masters for the session.

The server binary is ``$REDISX_REDIS_SERVER`` when set, else ``redis-server``
on ``PATH`` (Debian: ``apt-get install redis-server``). When it cannot be
found or does not start, :class:`RedisServerError` says why: a test that
needs it fails, it is never skipped.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from typing import Any, Iterator, List, Optional, Sequence

from ._client import Client

__all__ = ["RedisServer", "RedisCluster", "RedisServerError"]

#: How long a server may take to answer its first PING (generous: busy CI
#: machines).
START_DEADLINE = 20.0


class RedisServerError(RuntimeError):
    """A throwaway redis-server could not be found, started or formed."""


def _binary() -> str:
    exe = os.environ.get("REDISX_REDIS_SERVER") or shutil.which("redis-server")
    if not exe:
        raise RedisServerError(
            "redis-server not found on PATH (install it, e.g. apt-get install "
            "redis-server, or set REDISX_REDIS_SERVER)")
    return exe


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """A redis-server child process on a free loopback port.

    ``args``: extra redis-server arguments, e.g. ``["--maxmemory", "10mb"]``.
    Starts at construction; :meth:`stop` (or leaving a ``with`` block) stops
    it and removes its folder. ``url`` is ``redis://127.0.0.1:<port>/0``.
    """

    def __init__(self, args: Sequence[str] = ()) -> None:
        exe = _binary()
        self.dir = tempfile.mkdtemp(prefix="redisx-test-")
        self._proc: Optional[subprocess.Popen[bytes]] = None
        last = ""
        for _attempt in range(5):  # a port taken between probe and bind
            self.port = _free_port()
            log = os.path.join(self.dir, "redis.log")
            try:
                proc = subprocess.Popen(
                    [exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                     "--appendonly", "no", "--daemonize", "no", "--dir", self.dir,
                     "--logfile", log, *args],
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            except OSError as e:
                shutil.rmtree(self.dir, ignore_errors=True)
                raise RedisServerError(f"cannot run {exe}: {e}") from e
            deadline = time.monotonic() + START_DEADLINE
            while time.monotonic() < deadline and proc.poll() is None:
                if _ping(self.port):
                    self._proc = proc
                    return
                time.sleep(0.02)
            proc.kill()
            proc.wait()
            try:
                with open(log, encoding="utf-8", errors="replace") as f:
                    last = " | ".join(f.read().strip().splitlines()[-5:])
            except OSError:
                last = "no log"
        shutil.rmtree(self.dir, ignore_errors=True)
        raise RedisServerError(f"redis-server did not start on a free port: {last}")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self, **options: Any) -> Client:
        """A new client on this server (the caller closes it)."""
        return Client.from_url(self.url, **options)

    def stop(self) -> None:
        """Stops the server (SIGTERM, SIGKILL after 10 s). Idempotent."""
        proc, self._proc = self._proc, None
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> "RedisServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __del__(self) -> None:
        if getattr(self, "_proc", None) is not None:
            self.stop()


class RedisCluster:
    """A local Redis Cluster of ``masters`` masters (1 to 16) without
    replicas, the 16384 slots split evenly; ready (``cluster_state:ok`` on
    every node) when the constructor returns. ``url`` names every node as a
    seed (``redis+cluster://...``)."""

    def __init__(self, masters: int = 3, args: Sequence[str] = ()) -> None:
        if not isinstance(masters, int) or not 1 <= masters <= 16:
            raise ValueError(f"masters must be 1..16, got {masters!r}")
        self.nodes: List[RedisServer] = []
        try:
            for _ in range(masters):
                # nodes.conf lands in the node's own folder (its --dir).
                self.nodes.append(RedisServer([
                    "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                    "--cluster-node-timeout", "5000", *args]))
            self._form()
        except BaseException:
            self.stop()
            raise

    @property
    def url(self) -> str:
        return "redis+cluster://" + ",".join(f"127.0.0.1:{n.port}" for n in self.nodes)

    def client(self, **options: Any) -> Client:
        """A new cluster client with every node as a seed (the caller closes it)."""
        return Client.from_url(self.url, **options)

    def _form(self) -> None:
        clients = [n.client(command_timeout=10.0) for n in self.nodes]
        try:
            per = 16384 // len(clients)
            for i, c in enumerate(clients):
                last = 16383 if i == len(clients) - 1 else (i + 1) * per - 1
                c.execute("CLUSTER", "ADDSLOTSRANGE", i * per, last)
                c.execute("CLUSTER", "SET-CONFIG-EPOCH", i + 1)
            for n in self.nodes[1:]:
                clients[0].execute("CLUSTER", "MEET", "127.0.0.1", n.port)
            want = f"cluster_known_nodes:{len(clients)}".encode()
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                infos = [c.execute("CLUSTER", "INFO") for c in clients]
                if all(b"cluster_state:ok" in i and want in i for i in infos):
                    return
                time.sleep(0.05)
            raise RedisServerError("the nodes did not reach cluster_state:ok within 60 s")
        finally:
            for c in clients:
                c.close()

    def stop(self) -> None:
        """Stops every node. Idempotent."""
        for n in self.nodes:
            n.stop()

    def __enter__(self) -> "RedisCluster":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ---- pytest plugin (registered through the "pytest11" entry point) --------

try:
    import pytest
except ImportError:  # pytest is optional: the classes above work without it
    pytest = None  # type: ignore[assignment]

if pytest is not None:

    @pytest.fixture(scope="session")
    def redisx_server() -> Iterator[RedisServer]:
        """A throwaway redis-server for the test session."""
        with RedisServer() as server:
            yield server

    @pytest.fixture
    def redisx_client(redisx_server: RedisServer) -> Iterator[Client]:
        """A client on the session's server, with a key prefix of this test's
        own (tests never see each other's keys), closed after the test."""
        c = redisx_server.client(prefix="test-" + uuid.uuid4().hex[:12])
        try:
            yield c
        finally:
            c.close()

    @pytest.fixture(scope="session")
    def redisx_cluster() -> Iterator[RedisCluster]:
        """A local cluster of three masters for the test session."""
        with RedisCluster(3) as cluster:
            yield cluster
