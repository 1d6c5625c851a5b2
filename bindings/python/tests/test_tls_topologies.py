"""TLS over a cluster and over Sentinel: rediss+cluster:// against a 3-master
cluster whose nodes serve TLS only (bus and replication too), and
rediss+sentinel:// against TLS-only sentinels, master and replica — both
started by the scripts the plain tests use (tests/cluster/cluster.sh with
REDISX_CLUSTER_TLS, tests/sentinel/sentinel.sh with REDISX_SENTINEL_TLS) with
the certificates of tests/tls/make-certs.sh. The topology and the TLS are the
core's; these tests check that the package's tls_* keywords reach every
connection the core makes (seeds, every master, sentinels, the master they
name) and that a wrong CA is the package's ConnectionError with the
certificate's reason."""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import tempfile
import uuid
from typing import Iterator, List

import pytest

import redisx
from conftest import make_test_certs

_TESTS = pathlib.Path(__file__).resolve().parents[3] / "tests"
_CLUSTER_SH = _TESTS / "cluster" / "cluster.sh"
_SENTINEL_SH = _TESTS / "sentinel" / "sentinel.sh"

# Generous: TLS handshakes to several servers on a loaded machine.
TIMEOUTS = {"connect_timeout": 15.0, "command_timeout": 15.0}
# Where every handshake fails a command waits until its own deadline and then
# carries the last attempt's reason: shorter, still far above a handshake.
FAILING = {"connect_timeout": 15.0, "command_timeout": 5.0}


@pytest.fixture(scope="module")
def certs() -> Iterator[str]:
    folder = tempfile.mkdtemp(prefix="redisx-py-tlstopo-")
    try:
        make_test_certs(folder)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _start(script: pathlib.Path, env_name: str, certs: str, *args: str) -> tuple[str, List[int]]:
    folder = tempfile.mkdtemp(prefix="redisx-py-tlstopo-")
    env = {**os.environ, env_name: certs}
    out = subprocess.run([str(script), "start", folder, *args, str(os.getpid())], env=env,
                         check=True, capture_output=True, text=True).stdout
    return folder, [int(p) for p in out.split()]


@pytest.fixture(scope="module")
def tls_cluster(certs: str) -> Iterator[List[int]]:
    """The (TLS) ports of a fresh 3-master TLS-only cluster (stopped at the
    end, or by its watchdog if this process dies)."""
    folder, ports = _start(_CLUSTER_SH, "REDISX_CLUSTER_TLS", certs, "3", "0")
    try:
        yield ports
    finally:
        subprocess.run([str(_CLUSTER_SH), "stop", folder], check=False)


@pytest.fixture(scope="module")
def tls_sentinel(certs: str) -> Iterator[List[int]]:
    """[master, replica, s1, s2, s3] (TLS) ports, everything TLS only."""
    folder, ports = _start(_SENTINEL_SH, "REDISX_SENTINEL_TLS", certs)
    try:
        yield ports
    finally:
        subprocess.run([str(_SENTINEL_SH), "stop", folder], check=False)


def cluster_url(ports: List[int]) -> str:
    return "rediss+cluster://" + ",".join(f"127.0.0.1:{p}" for p in ports)


def sentinel_url(ports: List[int]) -> str:
    return "rediss+sentinel://" + ",".join(f"127.0.0.1:{p}" for p in ports[2:]) + "/mymaster"


def ca(certs: str, name: str = "ca.crt") -> str:
    return os.path.join(certs, name)


def keys_per_node(ports: List[int], certs: str, pattern: str) -> List[int]:
    """How many keys matching pattern each node holds (a rediss:// client per node)."""
    counts = []
    for p in ports:
        with redisx.Client(f"rediss://127.0.0.1:{p}", tls_ca_file=ca(certs), **TIMEOUTS) as node:
            cursor, found = b"0", 0
            while True:
                cursor, batch = node.execute("SCAN", cursor, "MATCH", pattern, "COUNT", 1000)
                found += len(batch)
                if cursor in (b"0", "0"):
                    break
            counts.append(found)
    return counts


def connection_error(client: redisx.Client) -> redisx.ConnectionError:
    with pytest.raises(redisx.ConnectionError) as ei:
        client.execute("PING")
    assert ei.value.name == "ERR_CONNECTION"
    return ei.value


# ---- a TLS cluster ---------------------------------------------------------------


def test_rediss_cluster_runs_locks_rate_limits_and_idempotency_on_every_master(tls_cluster, certs):
    prefix = f"pytc-{uuid.uuid4().hex[:8]}"
    # The names are the keys' hash tags: 30 of them spread over the 3 masters.
    names = [f"n-{i}" for i in range(30)]
    with redisx.Client(cluster_url(tls_cluster), prefix=prefix, tls_ca_file=ca(certs), **TIMEOUTS) as c:
        locks = [c.lock(n, ttl=60.0, wait=15.0) for n in names]
        assert all(lk.fencing_token > 0 for lk in locks)
        with pytest.raises(redisx.LockHeld):
            c.try_lock(names[0], ttl=60.0)
        lock_keys = keys_per_node(tls_cluster, certs, f"{prefix}:lock:*")
        for lk in locks:
            lk.release()
        assert not any(c.lock_info(n).locked for n in names)

        lim = c.limiter("api", "fixed_window", limit=2, period=3600)
        for n in names:
            assert [lim.check(n).allowed for _ in range(3)] == [True, True, False]
        rl_keys = keys_per_node(tls_cluster, certs, f"{prefix}:rl:*")

        for n in names:
            rec = c.idempotency_begin(n, b"fp", lease=30)
            assert rec.is_new
            rec.complete(f"done-{n}".encode(), b"", ttl=300)
        for n in names:
            again = c.idempotency_begin(n, b"fp")
            assert again.state == "COMPLETED" and again.response == f"done-{n}".encode()
        idem_keys = keys_per_node(tls_cluster, certs, f"{prefix}:idem:*")
    for what, counts in (("lock", lock_keys), ("rate-limit", rl_keys), ("idempotency", idem_keys)):
        assert all(n > 0 for n in counts), f"{what} keys per master {counts}"


def test_rediss_cluster_with_a_wrong_ca_fails_naming_the_certificate(tls_cluster, certs):
    with redisx.Client(cluster_url(tls_cluster), tls_ca_file=ca(certs, "other-ca.crt"), **FAILING) as c:
        err = connection_error(c)
    assert "certificate verify failed" in err.detail, err.detail


# ---- TLS Sentinel ----------------------------------------------------------------


def test_rediss_sentinel_reaches_the_master_and_runs_a_lock_a_rate_limit_and_an_idempotency(tls_sentinel, certs):
    prefix = f"pyts-{uuid.uuid4().hex[:8]}"
    with redisx.Client(sentinel_url(tls_sentinel), prefix=prefix, tls_ca_file=ca(certs), **TIMEOUTS) as c:
        # TLS only: the master's plain port is 0, its TLS port the one printed.
        assert c.execute("CONFIG", "GET", "tls-port")[1] == str(tls_sentinel[0]).encode()
        lk = c.lock("res", ttl=60.0, wait=15.0)
        assert lk.fencing_token > 0
        with pytest.raises(redisx.LockHeld):
            c.try_lock("res", ttl=60.0)
        lk.release()
        lim = c.limiter("api", "fixed_window", limit=2, period=3600)
        assert [lim.check("u").allowed for _ in range(3)] == [True, True, False]
        rec = c.idempotency_begin("order-1", b"fp", lease=30)
        assert rec.is_new
        rec.complete(b"done", b"", ttl=300)
        again = c.idempotency_begin("order-1", b"fp")
        assert again.state == "COMPLETED" and again.response == b"done"


def test_rediss_sentinel_with_a_wrong_ca_fails_naming_the_certificate(tls_sentinel, certs):
    with redisx.Client(sentinel_url(tls_sentinel), tls_ca_file=ca(certs, "other-ca.crt"), **FAILING) as c:
        err = connection_error(c)
    assert "certificate verify failed" in err.detail, err.detail
