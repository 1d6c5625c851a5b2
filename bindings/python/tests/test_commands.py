"""Raw commands: binary-safe arguments and replies."""

from __future__ import annotations

import pytest

import redisx

ALL_BYTES = bytes(range(256))


@pytest.fixture
def k(prefix):
    """Raw commands bypass the key prefix: name keys per test."""
    return lambda name: f"{prefix}:raw:{name}"


def test_binary_values_with_nul_bytes_round_trip(client, k):
    assert client.execute("SET", k("bin"), ALL_BYTES) == "OK"
    assert client.execute("GET", k("bin")) == ALL_BYTES
    assert client.execute("STRLEN", k("bin")) == 256


def test_binary_keys_and_buffer_arguments(client, k):
    key = k("bk").encode() + b"\x00\xffey"
    assert client.execute(b"SET", key, bytearray(b"\x00\x00")) == "OK"
    assert client.execute("GET", memoryview(key)) == b"\x00\x00"
    assert client.execute("EXISTS", k("bk")) == 0  # the NUL is part of the key


def test_numbers_and_text_arguments(client, k):
    assert client.execute("SET", k("n"), 41) == "OK"
    assert client.execute("INCR", k("n")) == 42
    assert client.execute("INCRBYFLOAT", k("n"), 0.5) == b"42.5"
    assert client.execute("SET", k("txt"), "żółw") == "OK"
    assert client.execute("GET", k("txt")).decode() == "żółw"


def test_reply_types(client, k):
    assert client.execute("PING") == "PONG"
    assert client.execute("GET", k("nothing")) is None
    client.execute("RPUSH", k("list"), b"a\x00", b"", b"c")
    assert client.execute("LRANGE", k("list"), 0, -1) == [b"a\x00", b"", b"c"]
    assert client.execute("LRANGE", k("nothing"), 0, -1) == []
    nested = client.execute("EVAL", "return {1, {2, 'x'}, redis.error_reply('boom')}", 0)
    assert nested[:2] == [1, [2, b"x"]]
    assert isinstance(nested[2], redisx.ServerError) and "boom" in nested[2].detail


def test_error_reply_raises_server_error(client, k):
    client.execute("SET", k("str"), "x")
    with pytest.raises(redisx.ServerError) as ei:
        client.execute("INCR", k("str"))
    assert ei.value.name == "ERR_SERVER" and "not an integer" in ei.value.detail


def test_large_values(client, k):
    big = bytes(range(256)) * 4096  # 1 MiB
    client.execute("SET", k("big"), big)
    assert client.execute("GET", k("big")) == big


def test_many_arguments(client, k):
    fields = []
    for i in range(2000):
        fields += [f"f{i}", i]
    assert client.execute("HSET", k("h"), *fields) == 2000
    assert client.execute("HLEN", k("h")) == 2000
