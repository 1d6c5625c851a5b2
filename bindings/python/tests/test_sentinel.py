"""Redis Sentinel through the package: a redis+sentinel:// URL passed
through to the core (docs/SENTINEL.md), against a master, a replica and
three sentinels that tests/sentinel/sentinel.sh starts on loopback. The
lookup, the ROLE check and failover handling are the core's (tested in
tests/c/test_sentinel.c); this checks that the package passes the URL
through, that its primitives work and that a lookup failure is a clear
ConnectionError."""

from __future__ import annotations

import os
import pathlib
import subprocess
import tempfile
import uuid
from typing import Iterator, List

import pytest

import redisx

_SENTINEL_SH = pathlib.Path(__file__).resolve().parents[3] / "tests" / "sentinel" / "sentinel.sh"


@pytest.fixture(scope="module")
def sentinel() -> Iterator[List[int]]:
    """[master, replica, s1, s2, s3] ports (stopped at the end, or by the
    watchdog if this process dies)."""
    folder = tempfile.mkdtemp(prefix="redisx-py-sentinel-")
    out = subprocess.run([str(_SENTINEL_SH), "start", folder, str(os.getpid())],
                         check=True, capture_output=True, text=True).stdout
    try:
        yield [int(p) for p in out.split()]
    finally:
        subprocess.run([str(_SENTINEL_SH), "stop", folder], check=False)


def sentinel_url(ports: List[int], master: str = "mymaster") -> str:
    return "redis+sentinel://" + ",".join(f"127.0.0.1:{p}" for p in ports[2:]) + "/" + master


def test_a_sentinel_url_reaches_the_master_and_primitives_work(sentinel):
    prefix = f"pys-{uuid.uuid4().hex[:8]}"
    with redisx.Client(sentinel_url(sentinel), prefix=prefix, command_timeout=10.0) as c:
        info = c.execute("INFO", "server")
        info = info.decode() if isinstance(info, bytes) else info
        assert f"tcp_port:{sentinel[0]}" in info
        lk = c.lock("res", ttl=30.0)
        assert lk.fencing_token > 0
        with pytest.raises(redisx.LockHeld):
            c.try_lock("res", ttl=30.0)
        lk.release()
        lim = c.limiter("api", "gcra", limit=2, period=3600)
        assert [lim.check("u").allowed for _ in range(3)] == [True, True, False]
        rec = c.idempotency_begin("order-1", b"fp", lease=30)
        assert rec.is_new
        rec.complete(b"done", b"", ttl=60)
        assert c.idempotency_begin("order-1", b"fp").response == b"done"


def test_the_sentinel_keywords_do_what_the_url_does(sentinel):
    sentinels = ["127.0.0.1:1"] + [f"127.0.0.1:{p}" for p in sentinel[2:]]  # a dead one first
    with redisx.Client("redis://127.0.0.1:1/0", sentinel_master="mymaster", sentinels=sentinels,
                       sentinel_password="", command_timeout=10.0) as c:
        info = c.execute("INFO", "server")
        info = info.decode() if isinstance(info, bytes) else info
        assert f"tcp_port:{sentinel[0]}" in info
    with pytest.raises(redisx.InvalidArgument, match="go together"):
        redisx.Client("redis://127.0.0.1:1", sentinel_master="mymaster")
    with pytest.raises(redisx.RedisxError, match="named twice"):
        redisx.Client("redis://127.0.0.1:1", sentinel_master="m", sentinels=["a:1", "a:1"])


def test_an_unknown_master_is_a_clear_connection_error(sentinel):
    with redisx.Client(sentinel_url(sentinel, "nosuchmaster"), command_timeout=10.0) as c:
        with pytest.raises(redisx.ConnectionError, match="does not know master 'nosuchmaster'"):
            c.execute("PING")


def test_a_malformed_sentinel_url_is_refused():
    with pytest.raises(redisx.RedisxError, match="names no master"):
        redisx.Client("redis+sentinel://127.0.0.1:26379/")
