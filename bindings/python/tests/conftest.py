"""Fixtures: a private redis-server on a free loopback port for the session,
and a client per test with its own key prefix."""

from __future__ import annotations

import os
import shutil
import signal
import socket
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


class RedisServer:
    def __init__(self) -> None:
        exe = shutil.which("redis-server")
        if exe is None:
            raise RuntimeError("redis-server not found (apt-get install redis-server)")
        self.dir = tempfile.mkdtemp(prefix="redisx-py-")
        self.pidfile = os.path.join(self.dir, "redis.pid")
        for _attempt in range(5):
            self.port = _free_port()
            rc = subprocess.call(
                [exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--daemonize", "yes", "--pidfile", self.pidfile, "--dir", self.dir,
                 "--logfile", os.path.join(self.dir, "redis.log")])
            deadline = time.monotonic() + 10
            while rc == 0 and time.monotonic() < deadline:
                if _ping(self.port) and os.path.exists(self.pidfile):
                    self.url = f"redis://127.0.0.1:{self.port}/0"
                    return
                time.sleep(0.05)
            self._kill()
        raise RuntimeError("could not start redis-server")

    def _kill(self) -> None:
        try:
            with open(self.pidfile) as f:
                pid = int(f.read().strip())
        except (OSError, ValueError):
            return
        try:
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
        self._kill()
        shutil.rmtree(self.dir, ignore_errors=True)


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
