"""The core's circuit breaker through the package: the option, calls failing
at once while it is open, fail-open answers, the stats, recovery."""

from __future__ import annotations

import time

import pytest

import redisx


def test_bad_settings_raise_invalid_argument(redis_url: str) -> None:
    for bad in [(-1, 1.0, 1.0), (5, 0, 1.0), (5, 1.0, 7200), (5, 1.0), "5", (True, 1.0, 1.0)]:
        with pytest.raises(redisx.InvalidArgument):
            redisx.Client.from_url(redis_url, circuit_breaker=bad)  # type: ignore[arg-type]


def test_open_breaker_fails_calls_at_once_and_a_restart_closes_it(private_server, until) -> None:
    server = private_server()
    c = redisx.Client.from_url(server.url, command_timeout=10.0, connect_timeout=0.5,
                               reconnect_backoff=(0.02, 0.1), circuit_breaker=(3, 60.0, 60.0))
    try:
        assert c.execute("PING") == "PONG"
        port = server.port
        server.stop()

        def opened() -> bool:
            try:
                c.execute("PING")
            except redisx.ConnectionError as e:
                return "circuit breaker" in str(e)
            return False

        assert until(opened, timeout=30)
        t0 = time.monotonic()
        for _ in range(50):
            with pytest.raises(redisx.ConnectionError, match="circuit breaker"):
                c.execute("PING")
        assert time.monotonic() - t0 < 5, "each call would wait 10 s without the breaker"
        # A fail-open limiter answers at once, flagged.
        lim = c.limiter("brk", "fixed_window", limit=5, period=1.0, fail_open=True)
        t0 = time.monotonic()
        r = lim.check("user")
        assert r.allowed and r.fail_open
        assert time.monotonic() - t0 < 5
        st = c.stats()["client"]
        assert st["circuit_opens"] >= 1 and st["circuit_rejected"] >= 50 and st["circuits_open"] == 1

        private_server(port=port)
        assert until(lambda: not opened(), timeout=30)
        assert c.execute("PING") == "PONG"
        assert c.stats()["client"]["circuits_open"] == 0
    finally:
        c.close()
