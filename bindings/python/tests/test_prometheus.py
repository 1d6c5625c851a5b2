"""redisx.prometheus: the core's metric families through a real
prometheus_client registry, scraped as Prometheus text."""

from __future__ import annotations

import re

import pytest
from prometheus_client import CollectorRegistry, generate_latest

import redisx
from redisx.prometheus import RedisxCollector


def sample(text: str, name: str, **labels: str) -> float:
    """The value of the sample `name{labels}` in a scrape (labels in any order)."""
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$', line)
        if not m or m.group(1) != name:
            continue
        got = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        if got == labels:
            return float(m.group(3))
    raise AssertionError(f"no sample {name}{labels} in the scrape")


def test_scrape_after_known_operations(redis_url: str, prefix: str) -> None:
    c = redisx.Client.from_url(redis_url, prefix=prefix)
    try:
        reg = CollectorRegistry()
        reg.register(RedisxCollector(c, labels={"client": "orders"}))
        with c.lock("job", ttl=30):
            with pytest.raises(redisx.LockHeld):
                c.try_lock("job", ttl=30)
        lim = c.limiter("api", "sliding_log", limit=2, period=60)
        for _ in range(3):
            lim.check("user-1")
        for _ in range(4):
            c.execute("PING")
        text = generate_latest(reg).decode()
        assert sample(text, "redisx_lock_acquisitions_total", client="orders", status="acquired") == 1
        assert sample(text, "redisx_lock_acquisitions_total", client="orders", status="held") == 1
        assert sample(text, "redisx_ratelimit_requests_total", client="orders", limiter="api",
                      status="allowed") == 2
        assert sample(text, "redisx_ratelimit_requests_total", client="orders", limiter="api",
                      status="rejected") == 1
        assert sample(text, "redisx_ratelimit_duration_seconds_count", client="orders", limiter="api",
                      operation="check") == 3
        assert sample(text, "redisx_locks_held", client="orders") == 0
        assert sample(text, "redisx_lock_wait_duration_seconds_count", client="orders") == 1
        assert sample(text, "redisx_lock_hold_duration_seconds_count", client="orders") == 1
        assert sample(text, "redisx_operations_total", client="orders", primitive="client",
                      operation="command", status="ok") == 4
        assert sample(text, "redisx_operation_duration_seconds_count", client="orders", primitive="client",
                      operation="command") == 4
        assert sample(text, "redisx_operation_duration_seconds_bucket", client="orders", primitive="client",
                      operation="command", le="+Inf") == 4
        assert sample(text, "redisx_operation_duration_seconds_bucket", client="orders", primitive="client",
                      operation="command", le="10.0") == 4
        assert sample(text, "redisx_operation_duration_seconds_sum", client="orders", primitive="client",
                      operation="command") > 0
        assert sample(text, "redisx_connections_up", client="orders") == 1
        assert "# TYPE redisx_operation_duration_seconds histogram" in text
        assert "# TYPE redisx_cache_l1_bytes gauge" in text
        # Counts move with the next scrape.
        c.execute("PING")
        assert sample(generate_latest(reg).decode(), "redisx_operations_total", client="orders",
                      primitive="client", operation="command", status="ok") == 5
    finally:
        c.close()
    # A closed client yields nothing, and the scrape does not fail.
    assert "redisx_" not in generate_latest(reg).decode()


def test_collector_checks_its_arguments(client: redisx.Client) -> None:
    with pytest.raises(TypeError):
        RedisxCollector(object())  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        RedisxCollector(client, labels={"client": 1})  # type: ignore[dict-item]
