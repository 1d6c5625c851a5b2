"""redisx.testing: the throwaway servers and the pytest fixtures users get."""

from __future__ import annotations

import socket

import pytest

import redisx
from redisx.testing import RedisCluster, RedisServer, RedisServerError


def test_fixture_client_has_a_prefix_of_its_own(redisx_client: redisx.Client,
                                                redisx_server: RedisServer) -> None:
    redisx_client.execute("SET", "k", b"\x00v")
    assert redisx_client.execute("GET", "k") == b"\x00v"
    with redisx_client.lock("job", ttl=30) as lock:
        assert lock.fencing_token > 0
        # The lock's keys carry the client's prefix: a client with another
        # prefix does not share it, one with the same prefix does.
        other = redisx_server.client(prefix="another")
        same = redisx_server.client(prefix=redisx_client.prefix)
        try:
            other.try_lock("job", ttl=30).release()
            with pytest.raises(redisx.LockHeld):
                same.try_lock("job", ttl=30)
        finally:
            other.close()
            same.close()


def test_server_stops_and_passes_args() -> None:
    with RedisServer(["--maxmemory", "10mb"]) as server:
        c = server.client(command_timeout=2.0)
        try:
            assert c.execute("CONFIG", "GET", "maxmemory")[1] == b"10485760"
            assert c.execute("DBSIZE") == 0
        finally:
            c.close()
        port = server.port
    server.stop()  # twice is fine
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_missing_binary_raises_with_its_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDISX_REDIS_SERVER", "/nonexistent/redis-server")
    with pytest.raises(RedisServerError, match="/nonexistent/redis-server"):
        RedisServer()


def test_cluster_spreads_keys_over_every_master() -> None:
    with pytest.raises(ValueError):
        RedisCluster(0)
    with RedisCluster(3) as cluster:
        assert cluster.url.startswith("redis+cluster://")
        c = cluster.client()
        try:
            held = [c.try_lock(f"name-{i}", ttl=60) for i in range(60)]
            assert all(lk.fencing_token > 0 for lk in held)
        finally:
            c.close()
        for node in cluster.nodes:
            nc = node.client()
            try:
                assert nc.execute("DBSIZE") > 0
            finally:
                nc.close()
