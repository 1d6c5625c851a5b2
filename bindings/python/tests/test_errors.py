"""Exceptions mirror the core's status codes; bad input is InvalidArgument."""

from __future__ import annotations

import math

import pytest

import redisx
from redisx import _errors, _rawc

from conftest import unused_port

NAMES = {
    "ERR_INVALID": redisx.InvalidArgument,
    "ERR_NOMEM": redisx.OutOfMemory,
    "ERR_TIMEOUT": redisx.Timeout,
    "ERR_CONNECTION": redisx.ConnectionError,
    "ERR_CLOSED": redisx.ClientClosed,
    "ERR_AUTH": redisx.AuthError,
    "ERR_SERVER": redisx.ServerError,
    "ERR_PROTOCOL": redisx.ProtocolError,
    "ERR_LOCKED": redisx.LockHeld,
    "ERR_NOT_OWNER": redisx.LockNotOwned,
    "ERR_WOULDBLOCK": redisx.WouldBlock,
    "ERR_EMPTY": redisx.Empty,
    "ERR_URL": redisx.InvalidURL,
    "ERR_CANCELLED": redisx.Cancelled,
}


def test_every_status_of_the_core_has_its_class():
    code = -1
    while _rawc.redisx_status_name(code) is not None:
        name = _rawc.redisx_status_name(code)
        assert _errors.ERRORS[code] is NAMES[name]
        assert issubclass(_errors.ERRORS[code], redisx.RedisxError)
        assert getattr(_rawc, f"REDISX_{name}") == code
        code -= 1
    assert len(_errors.ERRORS) == len(NAMES)


def test_exceptions_carry_code_name_and_detail(client):
    with client.lock("held", ttl=5):
        with pytest.raises(redisx.LockHeld) as ei:
            client.try_lock("held", ttl=5)
    e = ei.value
    assert e.code == _rawc.REDISX_ERR_LOCKED
    assert e.name == "ERR_LOCKED"
    assert "held" in e.detail and "fencing token" in e.detail
    assert str(e).startswith("ERR_LOCKED: ")
    assert isinstance(e, redisx.RedisxError)


def test_exceptions_pickle():
    import pickle

    e = redisx.LockNotOwned(-10, "ERR_NOT_OWNER", "gone")
    back = pickle.loads(pickle.dumps(e))
    assert type(back) is redisx.LockNotOwned and (back.code, back.name, back.detail) == (-10, "ERR_NOT_OWNER", "gone")


def test_malformed_url_is_invalid_url():
    with pytest.raises(redisx.InvalidURL) as ei:
        redisx.Client("http://127.0.0.1")
    assert ei.value.code == _rawc.REDISX_ERR_URL and ei.value.detail


def test_unreachable_server_is_connection_error():
    port = unused_port()
    with redisx.Client(f"redis://127.0.0.1:{port}", connect_timeout=1.0, command_timeout=1.0) as c:
        with pytest.raises(redisx.ConnectionError) as ei:
            c.try_lock("x", ttl=5)
        assert ei.value.name == "ERR_CONNECTION"
        assert str(port) in ei.value.detail or ei.value.detail


def test_fail_open_locks_grant_a_lock_that_excludes_nobody():
    port = unused_port()
    with redisx.Client(f"redis://127.0.0.1:{port}", connect_timeout=1.0, command_timeout=1.0,
                       fail_open_locks=True) as c:
        lk = c.try_lock("x", ttl=5)
        assert lk.fail_open and lk.fencing_token == 0 and lk.token == ""
        lk.release()


def test_wrong_password_is_auth_error(redis_url):
    # The test server has no password: AUTH with one is refused.
    with redisx.Client(redis_url, username="nobody", password="wrong", connect_timeout=2.0,
                       command_timeout=2.0) as c:
        with pytest.raises((redisx.AuthError, redisx.ConnectionError)) as ei:
            c.execute("PING")
        assert ei.value.detail


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.lock("", ttl=5),
        lambda c: c.lock("a\x00b", ttl=5),
        lambda c: c.lock(b"a\x00b", ttl=5),
        lambda c: c.lock(42, ttl=5),
        lambda c: c.lock(None, ttl=5),
        lambda c: c.lock("x" * 1025, ttl=5),
        lambda c: c.lock("x", ttl=0),
        lambda c: c.lock("x", ttl=-1),
        lambda c: c.lock("x", ttl=1e30),
        lambda c: c.lock("x", ttl=math.nan),
        lambda c: c.lock("x", ttl=math.inf),
        lambda c: c.lock("x", ttl="5"),
        lambda c: c.lock("x", ttl=True),
        lambda c: c.lock("x", ttl=5, wait=-1),
        lambda c: c.try_lock("x", ttl=86400.001),
        lambda c: c.lock_info(""),
        lambda c: c.lock_info(3.5),
        lambda c: c.execute(),
        lambda c: c.execute(object()),
        lambda c: c.execute("SET", "k", True),
        lambda c: c.execute("SET", "k", None),
        lambda c: c.execute("GET", "\udcff"),
    ],
)
def test_bad_input_raises_invalid_argument(client, call):
    with pytest.raises(redisx.InvalidArgument) as ei:
        call(client)
    assert isinstance(ei.value, ValueError)
    assert ei.value.code == _rawc.REDISX_ERR_INVALID and ei.value.detail
    client.try_lock("still-works", ttl=5).release()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"prefix": ""},
        {"prefix": "p" * 129},
        {"connections": 0},
        {"connections": 65},
        {"connections": "2"},
        {"command_timeout": 0},
        {"connect_timeout": -1},
        {"on_event": 5},
        {"reconnect_backoff": (2.0, 1.0)},
        {"reconnect_backoff": 1.0},
        {"url": 6379},
        {"username": "u"},
    ],
)
def test_bad_options_raise_invalid_argument(redis_url, kwargs):
    kwargs = dict(kwargs)
    url = kwargs.pop("url", redis_url)
    with pytest.raises(redisx.InvalidArgument):
        redisx.Client(url, **kwargs).close()


def test_bad_lock_arguments_raise_invalid_argument(client):
    with client.lock("x", ttl=5) as lk:
        with pytest.raises(redisx.InvalidArgument):
            lk.extend(0)
        with pytest.raises(redisx.InvalidArgument):
            lk.extend("1")
        with pytest.raises(redisx.InvalidArgument):
            lk.keep_alive(on_lost=3)


def test_raw_layer_rejects_bad_types_with_invalid_argument():
    opts = _rawc.redisx_options_new()
    try:
        with pytest.raises(redisx.InvalidArgument):
            _rawc.redisx_options_set_connections(opts, 2**40)
        with pytest.raises(redisx.InvalidArgument):
            _rawc.redisx_options_set_connections(opts, "2")
        with pytest.raises(redisx.InvalidArgument):
            _rawc.redisx_options_set_prefix(opts, b"a\x00b")
    finally:
        _rawc.redisx_options_free(opts)
    with pytest.raises(redisx.InvalidArgument):
        _rawc.redisx_options_set_url(None, "redis://x")
    with pytest.raises(redisx.InvalidArgument):
        _rawc.redisx_queue_pop(None, 0)
