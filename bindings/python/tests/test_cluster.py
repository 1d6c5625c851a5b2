"""Redis Cluster through the package: a redis+cluster:// URL (or the
``cluster_seeds`` keyword) and every primitive on a 3-master cluster that
tests/cluster/cluster.sh starts on loopback. The routing itself is the
core's (docs/CLUSTER.md); these tests check that the package passes the
topology through and that its primitives and raw commands land on every
master."""

from __future__ import annotations

import os
import pathlib
import subprocess
import tempfile
import threading
import uuid
from typing import Iterator, List

import pytest

import redisx

_CLUSTER_SH = pathlib.Path(__file__).resolve().parents[3] / "tests" / "cluster" / "cluster.sh"


@pytest.fixture(scope="module")
def cluster() -> Iterator[List[int]]:
    """The master ports of a fresh 3-master cluster (stopped at the end,
    or by its watchdog if this process dies)."""
    folder = tempfile.mkdtemp(prefix="redisx-py-cluster-")
    out = subprocess.run([str(_CLUSTER_SH), "start", folder, "3", "0", str(os.getpid())],
                         check=True, capture_output=True, text=True).stdout
    try:
        yield [int(p) for p in out.split()]
    finally:
        subprocess.run([str(_CLUSTER_SH), "stop", folder], check=False)


def url_of(ports: List[int]) -> str:
    return "redis+cluster://" + ",".join(f"127.0.0.1:{p}" for p in ports)


@pytest.fixture
def cprefix() -> str:
    return f"pyc-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def cclient(cluster: List[int], cprefix: str) -> Iterator[redisx.Client]:
    c = redisx.Client(url_of(cluster), prefix=cprefix, command_timeout=10.0, connect_timeout=5.0)
    try:
        yield c
    finally:
        c.close()


def keys_per_node(ports: List[int], pattern: str) -> List[int]:
    """How many keys matching pattern each node holds (a plain client per node)."""
    counts = []
    for p in ports:
        with redisx.Client(f"redis://127.0.0.1:{p}") as node:
            cursor, found = b"0", 0
            while True:
                cursor, batch = node.execute("SCAN", cursor, "MATCH", pattern, "COUNT", 1000)
                found += len(batch)
                if cursor in (b"0", "0"):
                    break
            counts.append(found)
    return counts


def test_raw_commands_are_routed_to_the_master_of_their_slot(cluster, cclient, cprefix):
    for i in range(90):
        assert cclient.execute("SET", f"{cprefix}:k{i}", f"v{i}".encode()) == "OK"
    assert [cclient.execute("GET", f"{cprefix}:k{i}") for i in range(90)] == [f"v{i}".encode() for i in range(90)]
    counts = keys_per_node(cluster, f"{cprefix}:k*")
    assert sum(counts) == 90 and all(n > 0 for n in counts), counts
    # keys sharing a hash tag go together, even in one multi-key command
    assert cclient.execute("MSET", f"{{{cprefix}}}a", "1", f"{{{cprefix}}}b", "2") == "OK"
    assert cclient.execute("MGET", f"{{{cprefix}}}a", f"{{{cprefix}}}b") == [b"1", b"2"]


def test_a_multi_key_command_across_slots_is_refused_naming_the_slots(cclient, cprefix):
    with pytest.raises(redisx.InvalidArgument, match="slot"):
        cclient.execute("MSET", f"{cprefix}:x1", "1", f"{cprefix}:x2", "2")
    with pytest.raises(redisx.InvalidArgument):
        cclient.execute("MGET", f"{cprefix}:x1", f"{cprefix}:x2")


def test_locks_on_every_master(cluster, cclient, cprefix):
    locks = [cclient.lock(f"res-{i}", ttl=30.0, wait=5.0) for i in range(30)]
    assert all(lk.fencing_token > 0 for lk in locks)
    counts = keys_per_node(cluster, f"*{cprefix}*")
    assert all(n > 0 for n in counts), counts
    with pytest.raises(redisx.LockHeld):
        cclient.try_lock("res-0", ttl=30.0)
    for lk in locks:
        lk.release()
    assert not any(cclient.lock_info(f"res-{i}").locked for i in range(30))


def test_a_waiting_acquire_is_woken_by_a_release_on_a_cluster(cclient):
    held = cclient.lock("wake", ttl=30.0)
    got = []
    waiter = threading.Thread(target=lambda: got.append(cclient.lock("wake", ttl=30.0, wait=20.0)))
    waiter.start()
    held.release()
    waiter.join(25.0)
    assert got and got[0].fencing_token > held.fencing_token
    got[0].release()


def test_rate_limits_on_every_master(cluster, cclient, cprefix):
    lim = cclient.limiter("api", "gcra", limit=3, period=3600)
    for i in range(30):
        assert [lim.check(f"user-{i}").allowed for _ in range(4)] == [True, True, True, False]
    counts = keys_per_node(cluster, f"*{cprefix}*")
    assert all(n > 0 for n in counts), counts


def test_idempotency_records_on_every_master(cluster, cclient, cprefix):
    for i in range(30):
        rec = cclient.idempotency_begin(f"order-{i}", b"fp", lease=30)
        assert rec.is_new
        rec.complete(f"done-{i}".encode(), b"", ttl=60)
    for i in range(30):
        again = cclient.idempotency_begin(f"order-{i}", b"fp")
        assert again.state == "COMPLETED" and again.response == f"done-{i}".encode()
    counts = keys_per_node(cluster, f"*{cprefix}*")
    assert all(n > 0 for n in counts), counts


def test_cluster_seeds_keyword_and_a_dead_seed(cluster, cprefix):
    dead = cluster[0] + 1 if cluster[0] + 1 not in cluster else cluster[0] + 2
    for seeds in ([f"127.0.0.1:{dead}", f"127.0.0.1:{cluster[1]}"], f"127.0.0.1:{dead},127.0.0.1:{cluster[2]}"):
        with redisx.Client("redis://127.0.0.1:1", cluster_seeds=seeds, prefix=cprefix, command_timeout=10.0) as c:
            assert c.execute("SET", f"{cprefix}:seed", "1") == "OK"
            assert c.execute("GET", f"{cprefix}:seed") == b"1"


@pytest.mark.parametrize("url", [
    "redis+cluster://",
    "redis+cluster://127.0.0.1:0",
    "redis+cluster://127.0.0.1:7000,",
    "redis+cluster://127.0.0.1:7000,:7001",
    "redis+cluster://127.0.0.1:7000/3",
])
def test_malformed_cluster_urls_are_refused(url):
    with pytest.raises(redisx.InvalidURL):
        redisx.Client(url)


@pytest.mark.parametrize("seeds", [[], [""], ["127.0.0.1:99999"], [1234], "h:1,,h:2"])
def test_malformed_cluster_seeds_are_refused(seeds):
    with pytest.raises((redisx.InvalidURL, redisx.InvalidArgument)):
        redisx.Client("redis://127.0.0.1:1", cluster_seeds=seeds)
