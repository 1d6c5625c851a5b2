"""The generated layer on its own: out-params, tags, the queue."""

from __future__ import annotations

import select

import pytest

import redisx
from redisx import _raw


def test_out_params_are_return_values_and_tags_round_trip(redis_url, prefix):
    opts = _raw.redisx_options_new()
    q = _raw.redisx_queue_new()
    try:
        _raw.redisx_options_set_url(opts, redis_url)
        _raw.redisx_options_set_prefix(opts, prefix)
        _raw.redisx_options_set_queue(opts, q, 0)
        client = _raw.redisx_client_open(opts)
    finally:
        _raw.redisx_options_free(opts)
    try:
        lk = _raw.redisx_lock_acquire(client, "raw", 5000, 0)
        fence = _raw.redisx_lock_fencing_token(lk)
        assert fence > 0
        assert _raw.redisx_lock_name(lk) == "raw"
        assert _raw.redisx_lock_inspect(client, "raw") == (True, fence, pytest.approx(5000, abs=1000), fence)
        with pytest.raises(redisx.LockHeld):
            _raw.redisx_lock_try_acquire(client, "raw", 5000)
        _raw.redisx_lock_release(lk)
        _raw.redisx_lock_free(lk)

        tag = 2**40 + 7
        _raw.redisx_lock_acquire_async(client, "raw", 5000, 0, tag)
        r, _, _ = select.select([_raw.redisx_queue_fd(q)], [], [], 30)
        assert r
        item = _raw.redisx_queue_pop(q, 0)
        assert _raw.redisx_item_user(item) == tag
        assert _raw.redisx_item_status(item) == 0
        lk2 = _raw.redisx_item_take_lock(item)
        _raw.redisx_item_free(item)
        assert _raw.redisx_lock_fencing_token(lk2) > fence
        _raw.redisx_lock_release(lk2)
        _raw.redisx_lock_free(lk2)

        key = f"{prefix}:rawkey"
        assert _raw.redisx_command(client, ["SET", key, b"\x00v"]) == "OK"
        assert _raw.redisx_command(client, ["GET", key]) == b"\x00v"
        with pytest.raises(redisx.Empty):
            _raw.redisx_queue_pop(q, 0)
    finally:
        _raw.redisx_client_close(client)
        _raw.redisx_queue_free(q)


def _pop(q):
    r, _, _ = select.select([_raw.redisx_queue_fd(q)], [], [], 30)
    assert r
    return _raw.redisx_queue_pop(q, 0)


def test_rate_limit_and_idempotency_in_the_generated_layer(redis_url, prefix):
    opts = _raw.redisx_options_new()
    q = _raw.redisx_queue_new()
    try:
        _raw.redisx_options_set_url(opts, redis_url)
        _raw.redisx_options_set_prefix(opts, prefix)
        _raw.redisx_options_set_queue(opts, q, 0)
        client = _raw.redisx_client_open(opts)
    finally:
        _raw.redisx_options_free(opts)
    try:
        # limiter: out-param handle, blocking check → result handle, accessors
        lim = _raw.redisx_limiter_new(client, "raw", _raw.REDISX_RATELIMIT_GCRA, 2, 60000, 0)
        assert _raw.redisx_limiter_capacity(lim) == 2
        res = _raw.redisx_limiter_check(lim, "k", 1)
        assert _raw.pyx_ratelimit_result_props(res) == (True, 2, 1, pytest.approx(30000, abs=1000), -1, False)
        assert _raw.redisx_ratelimit_result_allowed(res) == 1
        _raw.redisx_ratelimit_result_free(res)
        with pytest.raises(redisx.InvalidArgument):
            _raw.redisx_limiter_check(lim, "k", 3)
        # async check with a NULL callback completes into the queue
        _raw.redisx_limiter_check_async(lim, "k", 1, 11)
        item = _pop(q)
        assert _raw.redisx_item_user(item) == 11
        res = _raw.redisx_item_take_ratelimit_result(item)
        assert _raw.redisx_item_take_ratelimit_result(item) is None  # moved out
        _raw.redisx_item_free(item)
        assert _raw.redisx_ratelimit_result_remaining(res) == 0
        _raw.redisx_ratelimit_result_free(res)
        _raw.redisx_limiter_reset(lim, "k")
        _raw.redisx_limiter_free(lim)

        # idempotency: binary fingerprint/response/metadata in, bytes out
        rec = _raw.redisx_idem_begin(client, "raw", b"\x00fp", 10000, 0)
        assert _raw.redisx_idem_state_of(rec) == _raw.REDISX_IDEM_NEW
        assert _raw.redisx_idem_response(rec) == b""
        _raw.redisx_idem_complete(rec, b"r\x00esp", bytearray(b"m\x00"), 60000)
        _raw.redisx_idem_free(rec)
        _raw.redisx_idem_begin_async(client, "raw", memoryview(b"\x00fp"), 10000, 0, 12)
        item = _pop(q)
        assert _raw.redisx_item_user(item) == 12
        rec = _raw.redisx_item_take_idem(item)
        _raw.redisx_item_free(item)
        assert _raw.redisx_idem_state_of(rec) == _raw.REDISX_IDEM_COMPLETED
        assert _raw.redisx_idem_response(rec) == b"r\x00esp"
        assert _raw.redisx_idem_metadata(rec) == b"m\x00"
        assert _raw.redisx_idem_key(rec) == "raw"
        _raw.redisx_idem_free(rec)
        mismatch = _raw.redisx_idem_begin(client, "raw", None, 10000, 0)  # None: no fingerprint
        assert _raw.redisx_idem_state_of(mismatch) == _raw.REDISX_IDEM_MISMATCH
        _raw.redisx_idem_free(mismatch)
    finally:
        _raw.redisx_client_close(client)
        _raw.redisx_queue_free(q)
