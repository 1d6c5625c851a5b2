"""Busy polling (``busy_poll=``, the core's redisx_options_set_busy_poll_us):
the option's checks, and that spinning on the socket changes no answer:
blocking calls, asyncio calls (the I/O thread spins), a lock, a timeout on a frozen server."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

import redisx


def test_bad_values_raise_invalid_argument(redis_url: str) -> None:
    for bad in [-1e-6, 0.2, float("nan"), float("inf"), "1", True]:
        with pytest.raises(redisx.InvalidArgument):
            redisx.Client.from_url(redis_url, busy_poll=bad)  # type: ignore[arg-type]


def test_calls_answer_the_same_with_busy_polling(redis_url: str, prefix: str) -> None:
    c = redisx.Client.from_url(redis_url, prefix=prefix, busy_poll=200e-6)
    try:
        for i in range(200):
            assert c.execute("SET", f"{prefix}:bp", str(i)) == "OK"
            assert c.execute("GET", f"{prefix}:bp") == str(i).encode()
        with c.lock("bp-job", ttl=30) as lk:
            assert lk.fencing_token > 0
            with pytest.raises(redisx.LockHeld):
                c.try_lock("bp-job", ttl=30)

        async def many() -> list:
            locks = await asyncio.gather(*(c.try_lock_async(f"bp-{i}", ttl=30) for i in range(100)))
            await asyncio.gather(*(lk.release_async() for lk in locks))
            return [lk.name for lk in locks]

        assert asyncio.run(many()) == [f"bp-{i}" for i in range(100)]
    finally:
        c.close()


def test_a_frozen_server_still_times_out(private_server) -> None:
    server = private_server()
    c = redisx.Client.from_url(server.url, command_timeout=0.5, busy_poll=0.1)
    try:
        assert c.execute("PING") == "PONG"
        os.kill(server.pid, signal.SIGSTOP)
        try:
            with pytest.raises(redisx.Timeout):
                c.execute("PING")
        finally:
            os.kill(server.pid, signal.SIGCONT)
    finally:
        c.close()
